// NOTIFY_SOCKET reaches a notify service whatever it mounts over the socket's directory: tmpfs over /tmp or /run, a rootfs, a network namespace.
import { strict as assert } from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { parseConfigText } from '../../src/config/load';
import { Supervisor } from '../../src/supervisor';
import { readInput } from '../../src/logs/peek-input';
import { removeTestRoot, testRoot } from './cgroup-helpers';
import { mountinfo, requireRoot, SLOWDOWN, waitFor } from './helpers';

/** Says READY=1, then prints the mount that holds NOTIFY_SOCKET (its mount point and options), and whether it sees a file of the host beside the control socket. */
const READY_AND_REPORT =
  'python3 -c \'import socket,os; s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.sendto(b"READY=1", os.environ["NOTIFY_SOCKET"])\' && ' +
  'findmnt -n -o TARGET,OPTIONS --target "$NOTIFY_SOCKET"; [ -e "$MARKER" ] && echo host-dir-visible || echo host-dir-hidden; exec sleep 3600';

/** Mount points of the host in `dir` or below it, or exactly on /tmp or /run (other sessions mount below those). */
function hostMountsOf(dir: string): string[] {
  return mountinfo()
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point) => point === '/tmp' || point === '/run' || point === dir || point?.startsWith(`${dir}/`));
}

/**
 * One notify service `web` with `settings`, under a supervisor whose control socket is in a fresh directory below
 * `base`: the notify socket directory is derived from it as nsvisor run does. Returns the service's state, failure,
 * and output once it is running or has failed or stopped (restart never), with the supervisor stopped and everything
 * removed.
 */
async function runNotifyService(base: string, settings: Record<string, unknown>) {
  const dir = fs.mkdtempSync(path.join(base, 'nsv-notify-'));
  const control = path.join(dir, 'control.sock');
  const marker = path.join(dir, 'host-marker');
  fs.writeFileSync(marker, '');
  const root = testRoot();
  const web = { command: ['sh', '-c', READY_AND_REPORT], env: { MARKER: marker }, ready: { notify: true, timeout: `${10 * SLOWDOWN}s` }, restart: { policy: 'never' }, ...settings };
  const config = parseConfigText(JSON.stringify({ supervisor: { control, logDir: '-', metrics: 'off', cgroupRoot: root }, services: { web } }), 'test');
  const sup = new Supervisor(config);
  let output = '';
  sup.on('output', (_name, input) => void readInput(input, (d) => (output += d)));
  const before = hostMountsOf(dir);
  const states: string[] = [];
  sup.on('state', (_name, state) => states.push(state));
  try {
    void sup.start().catch(() => undefined);
    await waitFor('web to be ready or to fail', () => states.some((st) => st === 'running' || st === 'failed' || st === 'stopped'), 30_000);
    const s = sup.service('web');
    const outcome = { state: s.state, failure: s.failure };
    if (s.state === 'running') {
      const deadline = Date.now() + 10_000 * SLOWDOWN;
      while (!/host-dir-(visible|hidden)/.test(output) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    }
    await sup.stop();
    assert.deepEqual(hostMountsOf(dir), before, 'nothing of the service is mounted on the host');
    assert.deepEqual(fs.readdirSync(path.join(dir, 'notify')), [], 'the notify socket is removed at stop');
    return { ...outcome, output, socket: path.join(dir, 'notify', 'web.sock') };
  } finally {
    await sup.stop();
    await removeTestRoot(root);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

type Outcome = Awaited<ReturnType<typeof runNotifyService>>;

/** The service got ready, and the mount holding NOTIFY_SOCKET as it saw it: [mount point, options]. */
function readyThrough(r: Outcome): string[] {
  assert.equal(r.state, 'running', `${r.failure}\n${r.output}`);
  return r.output.split('\n')[0].trim().split(/\s+/);
}

/** The service got ready through a read-only mount of the socket of its own, and could not see the host's directory of it. */
function assertCarriedIn(r: Outcome) {
  const [point, options] = readyThrough(r);
  assert.equal(point, r.socket, 'the socket is a mount of its own');
  assert.match(options, /^ro,/, 'the carried mount is read-only: a datagram needs write permission on the socket, not a writable mount');
  assert.match(r.output, /host-dir-hidden/, 'the tmpfs (or rootfs) does hide the host directory, so the socket really was carried in');
}

describe('supervisor: NOTIFY_SOCKET whatever the service mounts (root, real kernel)', function () {
  this.timeout(60_000 * SLOWDOWN);
  before(requireRoot);

  it('a tmpfs over /tmp, the control socket under /tmp', async () => {
    assertCarriedIn(await runNotifyService(os.tmpdir(), { mounts: [{ type: 'tmpfs', target: '/tmp' }] }));
  });

  it('a tmpfs over /run, the control socket under /run', async () => {
    assertCarriedIn(await runNotifyService('/run', { mounts: [{ type: 'tmpfs', target: '/run' }] }));
  });

  it('a tmpfs over /tmp in a network namespace of its own', async () => {
    assertCarriedIn(await runNotifyService(os.tmpdir(), { isolate: ['pid', 'mount', 'uts', 'ipc', 'net'], mounts: [{ type: 'tmpfs', target: '/tmp' }] }));
  });

  it('a rootfs with a read-only root: the target is created inside the rootfs, not on the host', async () => {
    const rootfs = fs.mkdtempSync(path.join(os.tmpdir(), 'nsv-notify-rootfs-'));
    try {
      for (const l of ['bin', 'lib', 'lib64', 'sbin']) fs.symlinkSync(`usr/${l}`, path.join(rootfs, l));
      const r = await runNotifyService(os.tmpdir(), { rootfs, readonlyRoot: true, mounts: [{ type: 'bind', source: '/usr', target: '/usr', readonly: true }] });
      assertCarriedIn(r);
      assert.ok(fs.statSync(path.join(rootfs, r.socket)).isFile(), 'its mount point, an empty file, is in the rootfs');
    } finally {
      fs.rmSync(rootfs, { recursive: true, force: true });
    }
  });

  it('no mount over it, a read-only root: the host socket itself, on the read-only root, takes the datagram', async function () {
    // The control socket must lie on the root mount itself, which readonlyRoot makes read-only (a VM may have /tmp apart).
    const onRoot = [os.tmpdir(), '/run', '/var/tmp', '/root'].find((d) => fs.existsSync(d) && execFileSync('findmnt', ['-n', '-o', 'TARGET', '--target', d], { encoding: 'utf8' }).trim() === '/');
    if (!onRoot) {
      console.log('    skipped: none of /tmp, /run, /var/tmp, /root is on the root mount here, so no socket lies on the read-only root');
      this.skip();
    }
    const r = await runNotifyService(onRoot!, { readonlyRoot: true });
    assert.deepEqual(readyThrough(r).map((f) => f.split(',')[0]), ['/', 'ro'], 'the socket as it is on the host, on the read-only root');
    assert.match(r.output, /host-dir-visible/, 'nothing hides the host directory');
  });

  it('a bind of a host directory over it: refused before the start, with what to do', async () => {
    const hostDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsv-notify-bind-'));
    try {
      const r = await runNotifyService(os.tmpdir(), { mounts: [{ type: 'bind', source: hostDir, target: '/tmp' }] });
      assert.equal(r.state, 'failed');
      assert.match(
        r.failure ?? '',
        /^mounts\[0\]: the bind of \/tmp\/nsv-notify-bind-\w+ on \/tmp hides NOTIFY_SOCKET \/tmp\/nsv-notify-\w+\/notify\/web\.sock, and nsvisor creates nothing in a host directory; mount a tmpfs on \/tmp instead, or put supervisor\.control outside \/tmp$/,
      );
      assert.deepEqual(fs.readdirSync(hostDir), [], 'nothing was created in the host directory');
    } finally {
      fs.rmSync(hostDir, { recursive: true, force: true });
    }
  });
});
