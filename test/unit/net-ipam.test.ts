// Unit tests of the address pool: layout of a subnet, the next free address, conflicts and exhaustion.
import { strict as assert } from 'assert';

import { formatIPv4, parseIPv4 } from '../../src/config/addresses';
import { AddressError, AddressPool, layoutOf } from '../../src/net/ipam';
import { hostIfName } from '../../src/net/network';

const ip = (text: string) => parseIPv4(text)!;

describe('net: IPAM', () => {
  it('lays out a subnet: network, gateway = first host, broadcast, the range for services', () => {
    const l = layoutOf('10.88.0.0/24');
    assert.deepEqual([l.network, l.gateway, l.first, l.last, l.broadcast].map(formatIPv4), ['10.88.0.0', '10.88.0.1', '10.88.0.2', '10.88.0.254', '10.88.0.255']);
    const small = layoutOf('192.168.7.4/30');
    assert.deepEqual([small.gateway, small.first, small.last, small.broadcast].map(formatIPv4), ['192.168.7.5', '192.168.7.6', '192.168.7.6', '192.168.7.7']);
  });

  it('hands out the lowest free host address, skipping reserved ones and ones taken elsewhere', () => {
    const pool = new AddressPool('nsv0', layoutOf('10.88.0.0/24'));
    pool.reserve(ip('10.88.0.3'), 'db');
    assert.equal(formatIPv4(pool.next('a')), '10.88.0.2');
    assert.equal(formatIPv4(pool.next('b')), '10.88.0.4');
    assert.equal(formatIPv4(pool.next('c', (a) => a === ip('10.88.0.5'))), '10.88.0.6');
    pool.release(ip('10.88.0.2'));
    assert.equal(formatIPv4(pool.next('d')), '10.88.0.2');
    assert.equal(pool.ownerOf(ip('10.88.0.3')), 'db');
  });

  it('says who holds a conflicting address, and refuses the gateway, network, broadcast and outsiders', () => {
    const pool = new AddressPool('nsv0', layoutOf('10.88.0.0/24'));
    pool.reserve(ip('10.88.0.10'), 'web');
    assert.equal(pool.reserve(ip('10.88.0.10'), 'web'), ip('10.88.0.10'));
    assert.throws(() => pool.reserve(ip('10.88.0.10'), 'api'), /^Error: api: 10\.88\.0\.10 on network nsv0 \(10\.88\.0\.0\/24\) is already the address of web$/);
    assert.throws(() => pool.reserve(ip('10.88.0.1'), 'api'), /10\.88\.0\.1 is the gateway of network nsv0/);
    assert.throws(() => pool.reserve(ip('10.88.0.0'), 'api'), /is not a host address/);
    assert.throws(() => pool.reserve(ip('10.88.0.255'), 'api'), /is not a host address/);
    assert.throws(() => pool.reserve(ip('10.89.0.5'), 'api'), /10\.89\.0\.5 is not in network nsv0 \(10\.88\.0\.0\/24\)/);
  });

  it('reports an exhausted subnet with its size', () => {
    const pool = new AddressPool('tiny', layoutOf('10.1.2.0/29'));
    for (let i = 0; i < 5; i++) pool.next(`s${i}`);
    assert.throws(() => pool.next('late'), (e: Error) => e instanceof AddressError && /^late: no free address left on network tiny \(10\.1\.2\.0\/29\): all 5 host addresses are in use$/.test(e.message));
  });

  it('names host-side veths within IFNAMSIZ', () => {
    assert.equal(hostIfName('web', 1234), 'nsv-web-ya');
    assert.ok(hostIfName('a-very-long-service-name', 4194304).length <= 15);
  });
});
