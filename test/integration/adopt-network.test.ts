// Adoption of services on a network: a bridge's address, veth and NAT kept, the lease taken over (a new instance gets another), a lent device brought home at the stop.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import { alive, requireRoot, SLOWDOWN, waitFor } from './helpers';
import { CLIENT_PY, ECHO_PY, leaseFiles, TestHost } from './net-helpers';
import { removeRoots } from './supervisor-helpers';

const NET = ['pid', 'mount', 'uts', 'ipc', 'cgroup', 'net'];

/** The first line of the lease file of `address` under `dir` ("PID OWNER"), or null when there is none. */
function leaseOf(dir: string, address: string): string | null {
  for (const sub of fs.readdirSync(dir)) {
    const file = path.join(dir, sub, address);
    if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  }
  return null;
}

describe('adoption of services on a network (root, real kernel)', function () {
  this.timeout(120_000 * SLOWDOWN);
  let host: TestHost;

  before(function () {
    requireRoot();
    if (spawnSync('nft', ['--version']).status !== 0) {
      console.log('    nft (nftables) is not installed here: skipped (the network is a nat one; Debian: apt-get install nftables)');
      this.skip();
    }
  });
  beforeEach(() => (host = new TestHost()));
  afterEach(async () => {
    host.destroy();
    await removeRoots();
  });

  it('same pid, address and veth, reachable from the host side, after a SIGKILL and an upgrade; the lease is the successor\'s, a new instance gets another address; nothing left after stop', async () => {
    const services = { web: { command: ['python3', '-c', ECHO_PY, '7000'], isolate: NET, network: { attach: 'nsva0' }, ready: { tcp: 7000 } } };
    const networks = { nsva0: { subnet: '10.69.0.0/24', nat: true } };
    const ask = (address: string) => {
      const r = spawnSync('nsenter', [`--net=/run/netns/${host.name}`, '--', 'python3', '-c', CLIENT_PY, address, '7000', 'hi'], { encoding: 'utf8', timeout: 20_000 * SLOWDOWN });
      assert.equal(r.status, 0, `TCP to ${address}:7000 from the host side: ${r.stderr}`);
      return r.stdout.trim();
    };
    const veths = () => host.links().filter((l) => l.startsWith('nsv-'));
    /** nsvisor's nft table, '' when there is none. */
    const nat = () => {
      try {
        return host.nft('list', 'table', 'ip', 'nsvisor');
      } catch (e) {
        if (/No such file or directory/.test((e as Error).message)) return '';
        throw e;
      }
    };
    const first = await host.supervise(services, networks, {}, { adoptTimeout: `${20 * SLOWDOWN}s` });
    const before = await waitFor(`web running (${first.out()})`, () => first.status().find((s) => s.name === 'web' && s.state === 'running'), 60_000 * SLOWDOWN);
    assert.equal(ask('10.69.0.2'), 'HI');
    const veth = veths();
    assert.equal(veth.length, 1, String(host.links()));
    assert.equal(leaseOf(host.leaseDir, '10.69.0.2'), `${first.pid} web`);

    await first.crash();
    assert.equal(ask('10.69.0.2'), 'HI', 'it answers with no supervisor');
    const second = await host.runConfig(first.config);
    try {
      await waitFor(`the adoption line (${second.out()})`, () => /web: adopted web/.test(second.out()), 30_000 * SLOWDOWN);
      const adopted = second.status().find((s) => s.name === 'web');
      assert.deepEqual([adopted.state, adopted.pid, adopted.initPid], ['running', before.pid, before.initPid], 'the same instance, adopted');
      assert.ok(adopted.adoptedAt);
      assert.deepEqual(veths(), veth, 'its veth is kept, and no other made');
      assert.equal(ask('10.69.0.2'), 'HI', 'still reachable at its address');
      assert.equal(leaseOf(host.leaseDir, '10.69.0.2'), `${second.pid} web`, 'the lease is the successor\'s now');
      const rules = nat();
      assert.equal(rules.match(/ip saddr 10\.69\.0\.0\/24 .*masquerade/g)?.length, 1, rules);
      assert.ok(rules.includes(`nsvisor pid ${second.pid}`) && !rules.includes(`nsvisor pid ${first.pid}`), `the NAT made again by the successor: ${rules}`);

      // An upgrade in place adopts it again: the lease is this same pid's already.
      const up = second.ctl(['upgrade']);
      assert.equal(up.code, 0, up.stderr);
      await waitFor(`adopted again by the upgraded program (${second.out()})`, () => second.out().match(/web: adopted web/g)?.length === 2, 30_000 * SLOWDOWN);
      const upgraded = await waitFor('status from the upgraded program', () => {
        try {
          return second.status().find((s) => s.name === 'web');
        } catch {
          return null; // between the exec and the new control socket
        }
      });
      assert.deepEqual([upgraded.state, upgraded.pid], ['running', before.pid]);
      assert.deepEqual(veths(), veth);
      assert.equal(ask('10.69.0.2'), 'HI', 'reachable after the upgrade');
      assert.equal(leaseOf(host.leaseDir, '10.69.0.2'), `${second.pid} web`);

      // A second instance: the adopted one's address is taken, so it gets the next.
      const scaled = second.ctl(['scale', 'web', '2']);
      assert.equal(scaled.code, 0, scaled.stderr);
      await waitFor('two veths', () => veths().length === 2);
      assert.equal(ask('10.69.0.3'), 'HI', 'the new instance answers on the next address');
      assert.equal(leaseOf(host.leaseDir, '10.69.0.3'), `${second.pid} web`);
      assert.equal(second.ctl(['stop', 'web']).code, 0);
      assert.ok(!alive(before.initPid), 'the adopted instance stopped');
      assert.deepEqual(veths(), [], 'both veths go with their instances');
      assert.deepEqual(leaseFiles(host.leaseDir).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)), [], 'both leases released');
    } finally {
      await second.stop();
    }
    assert.deepEqual(host.links(), ['lo'], 'no veth and no bridge left');
    assert.deepEqual(leaseFiles(host.leaseDir), [], 'no network state file left');
    assert.doesNotMatch(nat(), /masquerade/, 'no NAT rule left');
  });

  it('a network.device instance adopted keeps the device, and the successor moves it back to the host at the stop', async () => {
    // One end of a veth pair stands for the device (no dummy driver on every kernel), as in net-supervisor.test.ts.
    host.ip('-n', host.name, 'link', 'add', 'nsvdum0', 'type', 'veth', 'peer', 'name', 'nsvdum0p');
    const found = host.links().sort();
    const services = { dev: { command: ['sleep', '600'], isolate: NET, network: { device: 'nsvdum0' } } };
    const first = await host.supervise(services, {}, {}, { adoptTimeout: `${20 * SLOWDOWN}s` });
    const before = await waitFor(`dev running (${first.out()})`, () => first.status().find((s) => s.name === 'dev' && s.state === 'running'), 60_000 * SLOWDOWN);
    assert.ok(!host.links().includes('nsvdum0'), 'lent to the instance');
    await first.crash();
    const second = await host.runConfig(first.config);
    try {
      await waitFor(`the adoption line (${second.out()})`, () => /dev: adopted dev/.test(second.out()), 30_000 * SLOWDOWN);
      assert.equal(second.status().find((s) => s.name === 'dev').pid, before.pid);
      assert.ok(!host.links().includes('nsvdum0'), 'still the instance\'s');
      assert.equal(second.ctl(['stop', 'dev']).code, 0);
      assert.deepEqual(host.links().sort(), found, 'back on the host after the adopted instance stopped');
    } finally {
      await second.stop();
    }
  });
});
