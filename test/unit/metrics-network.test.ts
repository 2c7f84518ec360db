// Unit tests of the network series: per interface (lo left out by the source), only for services with a network namespace, never backwards.
import { strict as assert } from 'assert';

import type { LinkCounters } from '../../src/net/links';
import { SupervisorMetrics } from '../../src/metrics';
import { fakeSource, FakeSupervisor, parseText, stats } from './metrics-fakes';

function setup() {
  const sup = new FakeSupervisor();
  sup.add('web', { isolate: ['pid', 'mount', 'net', 'uts', 'ipc', 'cgroup'] });
  sup.add('worker');
  /** The interfaces of each pid's namespace. */
  const nets = new Map<number, LinkCounters[]>();
  const asked: number[] = [];
  const links = async (pid: number) => {
    asked.push(pid);
    return nets.get(pid) ?? [];
  };
  const table = new Map<string, ReturnType<typeof stats>>();
  const metrics = new SupervisorMetrics(sup, { stats: fakeSource(table), links, maxAgeMs: 0, defaultMetrics: false });
  const scrape = async () => parseText((await metrics.render()).body);
  return { sup, nets, asked, metrics, scrape };
}

const rx = (name: string, iface: string) => `nsvisor_service_network_receive_bytes_total{name="${name}",interface="${iface}"}`;
const tx = (name: string, iface: string) => `nsvisor_service_network_transmit_bytes_total{name="${name}",interface="${iface}"}`;

describe('metrics: network counters', () => {
  it('exports each interface of a service with its own network namespace, and asks nothing of the others', async () => {
    const { sup, nets, asked, scrape } = setup();
    sup.run('web', 'w1', 41);
    sup.run('worker', 'k1', 42);
    nets.set(41, [{ interface: 'eth0', rxBytes: 1000, txBytes: 200 }, { interface: 'dummy0', rxBytes: 0, txBytes: 70 }]);
    const v = await scrape();
    assert.equal(v.get(rx('web', 'eth0')), 1000);
    assert.equal(v.get(tx('web', 'eth0')), 200);
    assert.equal(v.get(tx('web', 'dummy0')), 70);
    assert.deepEqual(asked, [41], 'worker shares the host network: no counters of its own');
    assert.ok(![...v.keys()].some((k) => k.includes('network') && k.includes('name="worker"')));
  });

  it('never goes backwards when a new instance counts from zero; an interface keeps its series', async () => {
    const { sup, nets, scrape } = setup();
    sup.run('web', 'w1', 41);
    nets.set(41, [{ interface: 'eth0', rxBytes: 1000, txBytes: 200 }]);
    await scrape();
    nets.set(41, [{ interface: 'eth0', rxBytes: 1500, txBytes: 300 }]);
    await scrape();
    sup.end('web', 'error');
    let v = await scrape();
    assert.equal(v.get(rx('web', 'eth0')), 1500, 'kept while in backoff');
    sup.run('web', 'w2', 43);
    nets.set(43, [{ interface: 'eth0', rxBytes: 10, txBytes: 5 }]);
    v = await scrape();
    assert.equal(v.get(rx('web', 'eth0')), 1510);
    assert.equal(v.get(tx('web', 'eth0')), 305);
  });

  it('removes the series of a removed service, every interface', async () => {
    const { sup, nets, scrape } = setup();
    sup.run('web', 'w1', 41);
    nets.set(41, [{ interface: 'eth0', rxBytes: 1, txBytes: 2 }, { interface: 'eth1', rxBytes: 3, txBytes: 4 }]);
    await scrape();
    sup.services.delete('web');
    sup.emit('removed', 'web');
    assert.deepEqual([...(await scrape()).keys()].filter((k) => k.includes('name="web"')), []);
  });
});
