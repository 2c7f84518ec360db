// Sandboxes on a bridge, each test inside its own throwaway "host" network namespace: reachability, addresses, routes, errors, cleanup.
import { strict as assert } from 'assert';

import { requireRoot, SLOWDOWN, waitFor } from './helpers';
import { CLIENT_PY, ECHO_PY, leaseFiles, PING_PY, TestHost } from './net-helpers';

const net = (bridge: string, ...extra: string[]) => ['sandbox', '--net', bridge, ...extra, '--'];

describe('network: sandbox --net BRIDGE (root)', function () {
  this.timeout(60_000 * SLOWDOWN); // the v2vm runs these under emulation
  let host: TestHost;

  before(requireRoot);
  beforeEach(() => (host = new TestHost()));
  afterEach(() => host.destroy());

  it('two sandboxes on one bridge reach each other (ping, TCP) and the gateway; each sees lo and eth0 only', async () => {
    const a = host.background([...net('nsvt0', '--subnet', '10.77.0.0/24'), 'python3', '-c', ECHO_PY, '7000']);
    await host.waitOutput(a, /listening/);
    assert.ok(host.links().includes('nsvt0'), `bridge in ${host.links()}`);
    const b = host.cli([
      ...net('nsvt0', '--subnet', '10.77.0.0/24'), 'sh', '-c',
      `ip -o -4 addr show; ip -o link show | cut -d: -f2; ip route; python3 -c "$1" 10.77.0.2 && python3 -c "$1" 10.77.0.1 && python3 -c "$2" 10.77.0.2 7000 hello`,
      'sh', PING_PY, CLIENT_PY,
    ]);
    assert.equal(b.code, 0, b.stdout + b.stderr);
    assert.match(b.stdout, /eth0\s+inet 10\.77\.0\.3\/24 brd 10\.77\.0\.255/);
    assert.deepEqual(b.stdout.match(/^ (\S+?)(@\S+)?$/gm)?.map((l) => l.trim().split('@')[0]), ['lo', 'eth0']);
    assert.match(b.stdout, /^default via 10\.77\.0\.1 dev eth0/m);
    assert.match(b.stdout, /^10\.77\.0\.0\/24 dev eth0 proto kernel scope link src 10\.77\.0\.3/m);
    assert.match(b.stdout, /pong 10\.77\.0\.2\npong 10\.77\.0\.1\nHELLO/);
    await host.waitOutput(a, /served 10\.77\.0\.3/);
    a.child.kill('SIGTERM');
    await new Promise((r) => a.child.once('exit', r));
    assert.deepEqual(host.links(), ['lo'], 'no veth and no bridge left');
    assert.deepEqual(leaseFiles(host.leaseDir), []);
  });

  it('a taken address and an exhausted subnet are clear errors; nothing is left after them', async () => {
    const a = host.background([...net('nsvt1', '--subnet', '10.78.0.0/30'), 'sleep', '60']);
    await waitFor('the first sandbox attached', () => host.links().some((l) => l.startsWith('nsv-')));
    const taken = host.cli([...net('nsvt1', '--subnet', '10.78.0.0/30', '--address', '10.78.0.2'), 'true']);
    assert.equal(taken.code, 125);
    assert.match(taken.stderr, /sandbox: 10\.78\.0\.2 on network nsvt1 is already the address of sandbox \(pid \d+\)/);
    const full = host.cli([...net('nsvt1', '--subnet', '10.78.0.0/30'), 'true']);
    assert.equal(full.code, 125);
    assert.match(full.stderr, /sandbox: no free address left on network nsvt1 \(10\.78\.0\.0\/30\): all 1 host addresses are in use/);
    const gateway = host.cli([...net('nsvt1', '--subnet', '10.78.0.0/30', '--address', '10.78.0.1'), 'true']);
    assert.match(gateway.stderr, /10\.78\.0\.1 is the gateway of network nsvt1/);
    a.child.kill('SIGTERM');
    await new Promise((r) => a.child.once('exit', r));
    assert.deepEqual(host.links(), ['lo']);
    assert.deepEqual(leaseFiles(host.leaseDir), []);
  });

  it('--net none still gives lo only', () => {
    const r = host.cli(['sandbox', '--net', 'none', '--', 'sh', '-c', 'ip -o link show | cut -d: -f2']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'lo');
  });
});
