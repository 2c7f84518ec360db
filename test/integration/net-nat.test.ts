// NAT of a network (nftables masquerade and ip_forward), the supervisor inside a throwaway "host" namespace with a third one as the outside world.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';

import { requireRoot, SLOWDOWN, waitFor } from './helpers';
import { CLIENT_PY, ECHO_PY, TestHost } from './net-helpers';
import { removeRoots } from './supervisor-helpers';

const NET = ['pid', 'mount', 'uts', 'ipc', 'cgroup', 'net'];
const sleeper = (network: string) => ({ command: ['sleep', '3600'], isolate: NET, network: { attach: network } });

describe('network: nat (nftables masquerade, ip_forward) (root)', function () {
  this.timeout(120_000 * SLOWDOWN); // the v2vm runs these under emulation
  let host: TestHost;

  before(function () {
    requireRoot();
    if (spawnSync('nft', ['--version']).status !== 0) {
      console.log('    nft (nftables) is not installed here: the NAT tests are skipped (Debian: apt-get install nftables)');
      this.skip();
    }
  });
  beforeEach(() => (host = new TestHost()));
  afterEach(async () => {
    host.destroy();
    await removeRoots();
  });

  /** The table's rules without handles, or null when there is no nsvisor table. */
  const table = () => {
    try {
      return host.nft('list', 'table', 'ip', 'nsvisor');
    } catch (e) {
      if (/No such file or directory/.test((e as Error).message)) return null;
      throw e;
    }
  };

  it('masquerades a nat network only: the outside sees the host\'s address; rules and ip_forward go at stop', async () => {
    const out = host.outside('192.0.2.1', '192.0.2.2');
    const server = host.spawnIn(out, ['python3', '-c', ECHO_PY, '7001']);
    await host.waitOutput(server, /listening/);
    assert.equal(host.ipForward(), '0', 'the test namespace starts without forwarding');
    const sup = await host.supervise(
      {
        client: {
          command: ['sh', '-c', 'python3 -c "$1" 192.0.2.2 7001 through; exec sleep 3600', 'sh', CLIENT_PY],
          isolate: NET, network: { attach: 'nsvnat0' }, restart: { policy: 'never' },
        },
        plain: sleeper('nsvpln0'),
      },
      { nsvnat0: { subnet: '10.70.0.0/24', nat: true }, nsvpln0: { subnet: '10.71.0.0/24', nat: false } },
    );
    const rules = table();
    assert.ok(rules, 'the nsvisor table exists');
    assert.match(rules!, new RegExp(`chain nat-nsvnat0 \\{[^}]*type nat hook postrouting priority srcnat; policy accept;\\s*ip saddr 10\\.70\\.0\\.0/24 oifname != "nsvnat0" masquerade comment "nsvisor pid ${sup.pid}"`));
    assert.match(rules!, /chain fwd-nsvnat0 \{[^}]*type filter hook forward priority filter; policy accept;\s*iifname "nsvnat0" ip saddr 10\.70\.0\.0\/24 accept/);
    assert.doesNotMatch(rules!, /nsvpln0|10\.71\./, 'nothing for the network without nat');
    assert.equal(host.ipForward(), '1');
    await waitFor('the client\'s answer', () => /THROUGH/.test(sup.ctl(['logs', 'client']).stdout)).catch((e) => {
      throw new Error(`${e.message}: ${sup.ctl(['logs', 'client']).stdout} / outside: ${server.out()}`);
    });
    // The outside has no route back to 10.70.0.0/24: it saw (and answered) the host's own address.
    await host.waitOutput(server, /served 192\.0\.2\.1\n/);
    assert.doesNotMatch(server.out(), /served 10\.70\./);
    await sup.stop();
    assert.equal(table(), null, 'the table is gone');
    assert.equal(host.ipForward(), '0', 'forwarding back off, as nsvisor found it');
  });

  it('leaves ip_forward on at stop when it was on before', async () => {
    spawnSync('nsenter', [`--net=/run/netns/${host.name}`, '--', 'sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward']);
    const sup = await host.supervise({ a: sleeper('nsvnat1') }, { nsvnat1: { subnet: '10.72.0.0/24', nat: true } });
    assert.match(table() ?? '', /masquerade/);
    await sup.stop();
    assert.equal(table(), null);
    assert.equal(host.ipForward(), '1');
  });

  it('after a SIGKILL, the next supervisor takes the rules over (one copy), and one without nat removes them at start', async () => {
    const services = { a: sleeper('nsvnat2') };
    const first = await host.supervise(services, { nsvnat2: { subnet: '10.73.0.0/24', nat: true } });
    await first.kill();
    assert.match(table() ?? '', new RegExp(`masquerade comment "nsvisor pid ${first.pid}"`), 'a killed supervisor leaves its rules');
    assert.equal(host.ipForward(), '1');

    const second = await host.supervise(services, { nsvnat2: { subnet: '10.73.0.0/24', nat: true } });
    const rules = table()!;
    assert.equal(rules.match(/masquerade/g)?.length, 1, rules);
    assert.equal(rules.match(/^\s*chain /gm)?.length, 2, rules);
    assert.equal(rules.match(/comment "nsvisor pid (\d+)"/g)?.length, 3, rules);
    assert.ok(rules.includes(`nsvisor pid ${second.pid}`) && !rules.includes(`nsvisor pid ${first.pid}`), rules);
    await second.kill();

    const third = await host.supervise(services, { nsvnat2: { subnet: '10.73.0.0/24', nat: false } });
    assert.equal(table(), null, 'the dead supervisor\'s chains were removed at start');
    assert.equal(host.ipForward(), '0', 'and the forwarding it turned on was turned off again');
    await third.stop();
    assert.deepEqual(host.links(), ['lo']);
  });

  it('a nat network that nft refuses fails the start with nft\'s error and the network\'s name; nothing of it is left', async () => {
    // A chain of that name held by a live owner (pid 1) with another hook: nft cannot turn it into a nat chain (6.18
    // kernels say "Operation not supported", 6.1 "File exists").
    host.nft('add table ip nsvisor; add chain ip nsvisor nat-nsvbad0 { type filter hook input priority 0; }; add rule ip nsvisor nat-nsvbad0 accept comment "nsvisor pid 1"');
    const failed = await host.supervise({ a: sleeper('nsvbad0') }, { nsvbad0: { subnet: '10.74.0.0/24', nat: true } }).then(
      () => assert.fail('the supervisor started'),
      (e: Error) => e.message,
    );
    assert.match(failed, /network nsvbad0: nat: adding masquerade: nft -f -: .*Error: Could not process rule: (Operation not supported|File exists)/);
    assert.match(table() ?? '', /chain nat-nsvbad0 \{\s*type filter hook input/, 'the other owner\'s chain is untouched');
    assert.doesNotMatch(table() ?? '', /fwd-nsvbad0|masquerade/);
    assert.equal(host.ipForward(), '0');
    assert.deepEqual(host.links(), ['lo'], 'the bridge made for it went again');
  });
});
