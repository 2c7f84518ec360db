// nsvisor's own sd_notify: the addon's sdNotify to a path or an abstract socket, and ManagerNotify taking NOTIFY_SOCKET from the environment.
import { strict as assert } from 'assert';
import { spawn, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PassThrough } from 'stream';

import { ManagerNotify } from '../../src/cli/manager-notify';
import { EventLog } from '../../src/events/event-log';
import { addon } from '../../src/native';

/** Resolves with the first datagram the socket gets. */
function firstDatagram(at: string): { received: Promise<string>; close: () => void } {
  let socket: { close(): void } | null = null;
  const received = new Promise<string>((resolve) => (socket = new addon.NotifySocket(at, resolve)));
  return { received, close: () => socket!.close() };
}

describe('sd_notify to the service manager', () => {
  let dir = '';
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsvisor-notify-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('sdNotify sends one datagram to a socket path', async () => {
    const at = path.join(dir, 'notify.sock');
    const { received, close } = firstDatagram(at);
    try {
      addon.sdNotify(at, 'READY=1\n');
      assert.equal(await received, 'READY=1\n');
    } finally {
      close();
    }
  });

  it('sdNotify reaches an abstract socket named @NAME', async function () {
    if (spawnSync('python3', ['-c', '']).error) this.skip(); // the listener here is python3's, which is not installed
    const name = `nsvisor-test-${crypto.randomBytes(4).toString('hex')}`;
    const listener = spawn('python3', ['-c', `import socket,sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind("\\0${name}"); print("bound", flush=True)
sys.stdout.write(s.recv(4096).decode()); sys.stdout.flush()`]);
    let out = '';
    const bound = new Promise<void>((resolve) => listener.stdout.on('data', (d) => ((out += d), out.startsWith('bound\n') && resolve())));
    const exited = new Promise<void>((resolve) => listener.on('exit', () => resolve()));
    try {
      await bound;
      addon.sdNotify(`@${name}`, 'STOPPING=1\n');
      await exited;
      assert.equal(out, 'bound\nSTOPPING=1\n');
    } finally {
      listener.kill();
    }
  });

  it('sdNotify refuses a NOTIFY_SOCKET that is neither an absolute path nor @NAME, and says why a send fails', () => {
    assert.throws(() => addon.sdNotify('run/notify', 'READY=1\n'), /RangeError: NOTIFY_SOCKET: expected an absolute path or @name .*got "run\/notify"/);
    assert.throws(() => addon.sdNotify(path.join(dir, 'nobody'), 'READY=1\n'), /^Error: sendto\(\/.*\/nobody\): No such file or directory$/);
  });

  it('ManagerNotify takes NOTIFY_SOCKET out of the environment and reports a failed send instead of throwing', () => {
    const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: path.join(dir, 'gone.sock'), KEEP: '1' };
    const out = new PassThrough();
    const manager = ManagerNotify.fromEnv(new EventLog(out), env);
    assert.deepEqual(env, { KEEP: '1' });
    assert.ok(manager);
    manager.send({ READY: '1' });
    assert.match(String(out.read()), /^nsvisor: cannot tell the service manager \(NOTIFY_SOCKET\): sendto\(\/.*\/gone\.sock\): No such file or directory\n$/);
    assert.equal(ManagerNotify.fromEnv(new EventLog(out), {}), null, 'no socket, no notifier');
  });
});
