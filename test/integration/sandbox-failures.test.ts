// Every failure path of a start is reported exactly and leaves no process, mount or namespace behind.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { sandbox } from '../../src';
import { childrenOf, cli, cliPath, mountinfo, processesWhere, repoRoot, requireRoot } from './helpers';

/** Processes of this checkout still running: nsvisor-init instances, or clone children still running our CLI. */
function leftovers(): number[] {
  const init = path.join(repoRoot, 'build', 'Release', 'nsvisor-init');
  return processesWhere((pid) => fs.readlinkSync(`/proc/${pid}/exe`) === init || fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(cliPath));
}

describe('sandbox: failures (root, real kernel)', function () {
  before(requireRoot);
  let root: string;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'rootfs-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const cases: [string, () => string[], number, RegExp][] = [
    ['a working directory that does not exist', () => ['--cwd', '/nope', '--', 'true'], 125, /^nsvisor: chdir\(\/nope\): No such file or directory$/],
    ['a rootfs without the command', () => ['--rootfs', root, '--', '/bin/sh'], 127, /^nsvisor: execve\(\/bin\/sh\): No such file or directory$/],
    ['a bind target that cannot be created in the rootfs', () => ['--rootfs', root, '--bind', '/etc/hostname:/etc/hostname/x', '--', 'true'], 125, /^nsvisor: mknod\(\/etc\/hostname\/x\): Not a directory$/],
    ['a missing bind source', () => ['--bind', '/no/such/source:/mnt', '--', 'true'], 125, /^nsvisor: mounts\[0\]\.source: \/no\/such\/source does not exist$/],
    ['a mount target missing on the host root', () => ['--tmpfs', '/no-such-target', '--', 'true'], 125, /does not exist \(without rootfs nsvisor creates nothing on the host\)$/],
    ['a hostname without a uts namespace', () => ['--isolate', 'pid,mount', '--hostname', 'x', '--', 'true'], 125, /^nsvisor: hostname: requires "uts" in isolate$/],
    ['an id map the kernel refuses', () => ['--uid-map', '0:100000:65536', '--gid-map', '0:100000:65536,0:200000:1', '--', 'true'], 125, /^nsvisor: write \/proc\/PID\/gid_map\(0 100000 65536, 0 200000 1\): Invalid argument$/],
  ];

  for (const [what, args, code, message] of cases) {
    it(`${what}: exit ${code}, a precise message, nothing left`, () => {
      fs.mkdirSync(path.join(root, 'etc'));
      fs.writeFileSync(path.join(root, 'etc', 'hostname'), 'x\n');
      const mountsBefore = mountinfo();
      const r = cli(['sandbox', ...args()]);
      assert.equal(r.code, code, r.stderr);
      assert.match(r.stderr.trim(), message);
      assert.equal(mountinfo(), mountsBefore, 'the host mount table changed');
      // Namespaces live only as long as a process (none is bind-mounted or held open): no process, no namespace.
      assert.deepEqual(leftovers(), [], 'processes left behind');
    });
  }

  it('the library reports a failed start without leaving a child', async () => {
    const r = await sandbox({ command: ['true'], cwd: '/nope' });
    assert.deepEqual([r.code, r.reason, r.error], [125, 'spawn_failed', 'chdir(/nope): No such file or directory']);
    assert.deepEqual(childrenOf(process.pid).filter((p) => p === r.pid), []);
    assert.deepEqual(leftovers(), []);
  });

  it('bad options are usage errors (exit 2) naming the option', () => {
    const r = cli(['sandbox', '--isolate', 'pid,bogus', '--', 'true']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--isolate: unknown namespace "bogus"/);
    const bind = cli(['sandbox', '--bind', 'nocolon', '--', 'true']);
    assert.equal(bind.code, 2);
    assert.match(bind.stderr, /--bind nocolon: expected SRC:DST or SRC:DST:ro/);
    const none = cli(['sandbox']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /missing the command/);
  });
});
