// Services on a declared network, the supervisor running inside a throwaway "host" network namespace: reachability, addresses, cleanup.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';

import { exampleService } from '../../bench/listen-example';
import { requireRoot, SLOWDOWN, waitFor } from './helpers';
import { CLIENT_PY, ECHO_PY, leaseFiles, PING_PY, TestHost } from './net-helpers';
import { removeRoots } from './supervisor-helpers';

const NET = ['pid', 'mount', 'uts', 'ipc', 'cgroup', 'net'];

describe('network: services with network.attach (root)', function () {
  this.timeout(90_000 * SLOWDOWN); // the v2vm runs these under emulation
  let host: TestHost;

  before(requireRoot);
  beforeEach(() => (host = new TestHost()));
  afterEach(async () => {
    host.destroy();
    await removeRoots();
  });

  const run = (services: Record<string, unknown>, networks: Record<string, unknown>) => host.supervise(services, networks);

  it('two services reach each other and the gateway; veths go with their instances, the bridge with the supervisor', async () => {
    const sup = await run(
      {
        web: { command: ['python3', '-c', ECHO_PY, '7000'], isolate: NET, network: { attach: 'nsvt0', address: '10.66.0.10' }, ready: { tcp: 7000 } },
        client: {
          command: ['sh', '-c', 'ip -o -4 addr show dev eth0; ip -o link show | cut -d: -f2; ip route; python3 -c "$1" 10.66.0.10 && python3 -c "$1" 10.66.0.1 && python3 -c "$2" 10.66.0.10 7000 hi; exec sleep 600', 'sh', PING_PY, CLIENT_PY],
          isolate: NET, network: { attach: 'nsvt0' }, dependsOn: ['web'], restart: { policy: 'never' },
        },
      },
      { nsvt0: { subnet: '10.66.0.0/24' } },
    );
    await waitFor('client output', () => /HI/.test(sup.ctl(['logs', 'client']).stdout)).catch((e) => {
      throw new Error(`${e.message}: ${sup.out()} ${JSON.stringify(sup.ctl(["status", "--json"]))} ${JSON.stringify(sup.ctl(["logs", "client"]))}`);
    });
    const log = sup.ctl(['logs', 'client']).stdout;
    assert.match(log, /eth0\s+inet 10\.66\.0\.2\/24/);
    // Each log line is "TIMESTAMP TEXT"; `cut -d: -f2` leaves the link names with one leading space.
    assert.deepEqual([...log.matchAll(/^\S+ {2}(\S+?)(?:@\S+)?\s*$/gm)].map((m) => m[1]), ['lo', 'eth0']);
    assert.match(log, /default via 10\.66\.0\.1 dev eth0/);
    assert.match(log, /pong 10\.66\.0\.10[\s\S]*pong 10\.66\.0\.1\b[\s\S]*HI/);
    const counters = sup.status().find((s) => s.name === 'client').network;
    assert.deepEqual(counters.map((c: any) => c.interface), ['eth0'], 'counters of eth0, not lo');
    assert.ok(counters[0].rxBytes > 0 && counters[0].txBytes > 0, JSON.stringify(counters));
    const veths = () => host.links().filter((l) => l.startsWith('nsv-'));
    assert.equal(veths().length, 2, String(host.links()));
    assert.equal(sup.ctl(['stop', 'client']).code, 0);
    await waitFor('one veth left', () => veths().length === 1);
    assert.match(veths()[0], /^nsv-web-/);
    await sup.stop();
    assert.deepEqual(host.links(), ['lo'], 'no veth and no bridge left');
    assert.deepEqual(leaseFiles(host.leaseDir), []);
  });

  it('an exhausted subnet fails the service that finds no address, with a clear reason', async () => {
    const sleeper = { command: ['sleep', '600'], isolate: NET, network: { attach: 'tiny' }, restart: { policy: 'never' } };
    const sup = await run({ one: sleeper, two: { ...sleeper, dependsOn: ['one'] } }, { tiny: { subnet: '10.67.0.0/30' } });
    await waitFor('two gave up', () => sup.status().find((s) => s.name === 'two')?.failure);
    const two = sup.status().find((s) => s.name === 'two');
    assert.match(two.failure, /two: no free address left on network tiny \(10\.67\.0\.0\/30\): all 1 host addresses are in use/);
    assert.equal(sup.status().find((s) => s.name === 'one').state, 'running');
    await sup.stop();
    assert.deepEqual(host.links(), ['lo']);
    assert.deepEqual(leaseFiles(host.leaseDir), []);
  });

  it('after a SIGKILL of the supervisor, a new one reclaims the address and the bridge, and leaves nothing at stop', async () => {
    const services = { web: { command: ['sleep', '600'], isolate: NET, network: { attach: 'nsvt2' } } };
    const networks = { nsvt2: { subnet: '10.68.0.0/24' } };
    // adoptTimeout 0: the instance ends with its supervisor, so its namespace (and veth) goes at once.
    const first = await host.supervise(services, networks, {}, { adoptTimeout: '0s' });
    await waitFor('web running', () => first.status().find((s) => s.name === 'web')?.state === 'running');
    await first.kill();
    await waitFor('the orphaned veth gone with its namespace', () => !host.links().some((l) => l.startsWith('nsv-')));
    assert.ok(host.links().includes('nsvt2'), 'the bridge outlives a killed supervisor');
    const second = await run(services, networks);
    await waitFor('web running again', () => second.status().find((s) => s.name === 'web')?.state === 'running');
    assert.equal(host.links().filter((l) => l.startsWith('nsv-')).length, 1);
    assert.ok(leaseFiles(host.leaseDir).includes('10.68.0.2'), 'the dead holder\'s lease was taken over');
    await second.stop();
    assert.deepEqual(host.links(), ['lo']);
    assert.deepEqual(leaseFiles(host.leaseDir), []);
  });

  it('a zero-downtime restart on a bridge: the new instance gets a veth and address of its own, the old one\'s go with it', async () => {
    host.ip('-n', host.name, 'link', 'set', 'lo', 'up'); // the held socket is on the host namespace's loopback
    const sup = await run({ api: { ...exampleService({ port: 8080 }), network: { attach: 'nsvt0' } } }, { nsvt0: { subnet: '10.66.0.0/24' } });
    await waitFor(`api running (${sup.out()})`, () => sup.status().find((s) => s.name === 'api')?.state === 'running', 60_000);
    // A client in the test's host namespace, where the supervisor holds the socket.
    const get = () => {
      const py = 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:8080/", timeout=10).read().decode())';
      const r = spawnSync('nsenter', [`--net=/run/netns/${host.name}`, '--', 'python3', '-c', py], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout).startedAt as string;
    };
    const veths = () => host.links().filter((l) => l.startsWith('nsv-api'));
    const before = { answer: get(), veths: veths() };
    assert.equal(before.veths.length, 1);
    const r = sup.ctl(['restart', 'api']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /restarted without downtime/);
    const after = veths();
    assert.equal(after.length, 1, `only the new instance's veth is left: ${after}`);
    assert.notEqual(after[0], before.veths[0]);
    assert.notEqual(get(), before.answer, 'the new instance answers');
    await sup.stop();
    assert.deepEqual(veths(), []);
    assert.deepEqual(leaseFiles(host.leaseDir), []);
  });

  it('network.device moves a host device into the service, up, and back to the supervisor\'s namespace after each instance; a missing one is a clear failure', async () => {
    // No dummy driver on every kernel: one end of a veth pair is the device. Virtual or physical, the kernel would delete
    // it (or send it to the init namespace) with the service's namespace: nsvisor moves it back first.
    host.ip('-n', host.name, 'link', 'add', 'nsvdum0', 'type', 'veth', 'peer', 'name', 'nsvdum0p');
    const sup = await run(
      {
        dev: { command: ['sh', '-c', 'ip -o link show | cut -d: -f2,3; exec sleep 3600'], isolate: NET, network: { device: 'nsvdum0' } },
        missing: { command: ['true'], isolate: NET, network: { device: 'nsvnone0' }, restart: { policy: 'never' } },
      },
      {},
    );
    const shown = () => sup.ctl(['logs', 'dev']).stdout.match(/nsvdum0@\S+: <[A-Z,_-]*\bUP\b/g)?.length ?? 0;
    await waitFor('dev output', () => shown() === 1);
    assert.ok(!host.links().includes('nsvdum0'), 'moved off the host');
    await waitFor('missing failed', () => sup.status().find((s) => s.name === 'missing')?.failure);
    assert.match(sup.status().find((s) => s.name === 'missing').failure, /ioctl\(SIOCGIFINDEX, nsvnone0\): No such device/);

    // The instance dies (SIGKILL of its init): the device comes back, and the restarted instance has it again.
    const first = sup.status().find((s) => s.name === 'dev').pid;
    process.kill(first, 'SIGKILL');
    await waitFor('the second instance shows the device', () => shown() === 2, 30_000);
    assert.notEqual(sup.status().find((s) => s.name === 'dev').pid, first);
    assert.ok(!host.links().includes('nsvdum0'), 'in the second instance');

    assert.equal(sup.ctl(['stop', 'dev']).code, 0);
    assert.deepEqual(host.links().sort(), ['lo', 'nsvdum0', 'nsvdum0p'], 'back on the host after the stop');
    await sup.stop();
    assert.deepEqual(host.links().sort(), ['lo', 'nsvdum0', 'nsvdum0p'], 'and after the supervisor stopped');
  });
});
