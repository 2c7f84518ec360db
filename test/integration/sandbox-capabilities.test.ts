// Capabilities and no_new_privs for real: what /proc/self/status shows inside, and that the kernel then refuses (or allows) the privileged call.
import { strict as assert } from 'assert';
import * as fs from 'fs';

import { cli, requireRoot, waitFor } from './helpers';
import { removeRoots, startRun, stateOf, stopRun } from './supervisor-helpers';

/** The Cap* and NoNewPrivs lines of /proc/self/status, as a map. */
function statusOf(text: string): Record<string, string> {
  return Object.fromEntries([...text.matchAll(/^(Cap\w+|NoNewPrivs):\s*(\S+)$/gm)].map((m) => [m[1], m[2]]));
}

const SHOW = ['grep', '-E', '^(Cap|NoNewPrivs)', '/proc/self/status'];
/** Binds 127.0.0.1:80 (a privileged port) in the sandbox's own network namespace; prints "bound" or the error. */
const BIND_80 = ['/usr/bin/python3', '-c', "import socket\ntry:\n socket.socket().bind(('127.0.0.1', 80)); print('bound')\nexcept OSError as e: print(e.strerror)"];
const NET = ['--isolate', 'pid,mount,uts,ipc,cgroup,net'];

describe('sandbox: capabilities and no_new_privs (root, real kernel)', function () {
  before(requireRoot);

  it('by default a root command keeps the 14 capabilities of Docker\'s default set; --caps all and --privileged keep every one', () => {
    const r = cli(['sandbox', '--', ...SHOW]);
    assert.equal(r.code, 0, r.stderr);
    const inside = statusOf(r.stdout);
    for (const set of ['CapPrm', 'CapEff', 'CapBnd']) assert.equal(inside[set], '00000000a80425fb', set);
    assert.equal(inside.NoNewPrivs, '0');
    const ours = statusOf(fs.readFileSync('/proc/self/status', 'utf8'));
    for (const flag of [['--caps', 'all'], ['--privileged']]) {
      const all = statusOf(cli(['sandbox', ...flag, '--', ...SHOW]).stdout);
      assert.deepEqual([all.CapBnd, all.CapEff], [ours.CapBnd, ours.CapEff], flag.join(' '));
    }
  });

  it('a user that is not root gets the default set only as a bound: nothing effective, nothing ambient', () => {
    const s = statusOf(cli(['sandbox', '--user', '1000:1000', '--', ...SHOW]).stdout);
    assert.deepEqual([s.CapBnd, s.CapEff, s.CapPrm, s.CapAmb], ['00000000a80425fb', '0000000000000000', '0000000000000000', '0000000000000000']);
  });

  it('--caps "" as root: every set is empty, and mount(2) is refused', () => {
    const r = cli(['sandbox', '--caps', '', '--', ...SHOW]);
    assert.equal(r.code, 0, r.stderr);
    const s = statusOf(r.stdout);
    for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) assert.equal(s[set], '0000000000000000', set);
    const mount = cli(['sandbox', '--caps', '', '--', 'mount', '-t', 'tmpfs', 'none', '/mnt']);
    assert.notEqual(mount.code, 0, 'mount without CAP_SYS_ADMIN must fail');
    assert.match(mount.stderr, /permission denied|must be superuser|not permitted/i);
    assert.equal(cli(['sandbox', '--privileged', '--', 'mount', '-t', 'tmpfs', 'none', '/mnt']).code, 0, 'with every capability it works');
  });

  it('--caps net_bind_service --user 1000: kept as ambient across exec, so a uid 1000 process binds port 80', () => {
    const r = cli(['sandbox', '--user', '1000:1000', '--caps', 'net_bind_service', '--', ...SHOW]);
    assert.equal(r.code, 0, r.stderr);
    const s = statusOf(r.stdout);
    for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) assert.equal(s[set], '0000000000000400', set);
    const bound = cli(['sandbox', ...NET, '--user', '1000:1000', '--caps', 'CAP_NET_BIND_SERVICE', '--', ...BIND_80]);
    assert.equal(bound.stdout.trim(), 'bound', bound.stderr);
    const refused = cli(['sandbox', ...NET, '--user', '1000:1000', '--', ...BIND_80]);
    assert.equal(refused.stdout.trim(), 'Permission denied', 'without the capability the kernel refuses');
  });

  it('--caps as root keeps the listed ones only: port 80 yes, mount no', () => {
    const bound = cli(['sandbox', ...NET, '--caps', 'net_bind_service', '--', ...BIND_80]);
    assert.equal(bound.stdout.trim(), 'bound', bound.stderr);
    assert.notEqual(cli(['sandbox', '--caps', 'net_bind_service', '--', 'mount', '-t', 'tmpfs', 'none', '/mnt']).code, 0);
  });

  it('--no-new-privs: NoNewPrivs is 1 for the command and what it runs', () => {
    const r = cli(['sandbox', '--no-new-privs', '--', 'sh', '-c', 'grep NoNewPrivs /proc/self/status']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^NoNewPrivs:\s*1$/m);
  });

  it('an unknown capability is a usage error naming it; nothing runs', () => {
    const r = cli(['sandbox', '--caps', 'net_bind_service,cap_fly', '--', 'touch', '/tmp/nsvtest-should-not-exist']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /unknown capability "cap_fly"/);
    assert.ok(!fs.existsSync('/tmp/nsvtest-should-not-exist'));
  });
});

describe('services: capabilities, user and no_new_privs reach the service, its exec check and `nsvisor exec` (root)', function () {
  before(requireRoot);
  after(removeRoots);

  it('the exec ready check and nsvisor exec run as the service does', async () => {
    // The ready check passes only when it runs with the service's own capability set: as full root it never would.
    const run = await startRun({
      web: {
        command: ['sleep', '3600'],
        user: '1000:1000',
        capabilities: ['CAP_NET_BIND_SERVICE'],
        noNewPrivileges: true,
        ready: { exec: ['grep', '-q', '^CapEff:[[:space:]]*0000000000000400$', '/proc/self/status'], timeout: '10s' },
      },
    });
    try {
      await waitFor('web running', () => stateOf(run, 'web')?.state === 'running');
      const main = statusOf(fs.readFileSync(`/proc/${stateOf(run, 'web').pid}/status`, 'utf8'));
      assert.equal(main.CapAmb, '0000000000000400');
      assert.equal(main.NoNewPrivs, '1');
      const exec = run.ctl(['exec', 'web', '--', 'sh', '-c', 'id -u; id -g; grep -E "^(CapEff|NoNewPrivs)" /proc/self/status']);
      assert.equal(exec.code, 0, exec.stderr);
      const [uid, gid] = exec.stdout.split('\n');
      assert.deepEqual([uid, gid], ['1000', '1000']);
      assert.deepEqual(statusOf(exec.stdout), { CapEff: '0000000000000400', NoNewPrivs: '1' });
      const asRoot = run.ctl(['exec', 'web', '--user', '0:0', '--', 'sh', '-c', 'id -u; grep -E "^CapEff" /proc/self/status']);
      assert.equal(asRoot.code, 0, asRoot.stderr);
      assert.deepEqual(asRoot.stdout.trim().split('\n').map((l) => l.split(/\s+/).join(' ')), ['0', 'CapEff: 0000000000000400'], '--user changes the ids only');
      assert.equal(run.ctl(['exec', 'web', '--user', 'root', '--', 'true']).code, 2, 'a --user that is not numeric is a usage error');
    } finally {
      assert.equal(await stopRun(run), 0);
    }
  });
});
