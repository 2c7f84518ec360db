// ListenSockets: real sockets on loopback and in a temp dir (no root needed): env, fd names, errors and cleanup.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

import { parseListen } from '../../src/config/addresses';
import { fdName, ListenError, ListenSockets } from '../../src/service/listen-sockets';

const listen = (url: string) => parseListen(url)!;

describe('listen sockets', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsvtest-listen-unit-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('names each fd by its address, without the ":" that separates LISTEN_FDNAMES', () => {
    assert.equal(fdName(listen('tcp://0.0.0.0:8080')), 'tcp-0.0.0.0-8080');
    assert.equal(fdName(listen('tcp://[::1]:80')), 'tcp-__1-80');
    assert.equal(fdName(listen('unix:///run/api.sock')), 'unix-/run/api.sock');
  });

  it('holds listening sockets that accept connections, and close() removes its unix socket file', async () => {
    const sock = path.join(dir, 'sub', 'api.sock');
    const held = await ListenSockets.open('api', [listen('tcp://localhost:0'), listen(`unix://${sock}`)]);
    try {
      assert.equal(held.fds.length, 2);
      assert.deepEqual(held.env(), { LISTEN_FDS: '2', LISTEN_FDNAMES: `tcp-localhost-0:unix-${sock}` });
      assert.equal(fs.statSync(sock).mode & 0o777, 0o666);
      // The kernel queues a connection on the held socket though nobody accepts yet.
      await new Promise<void>((resolve, reject) => net.connect(sock).once('connect', function (this: net.Socket) {
        this.destroy();
        resolve();
      }).once('error', reject));
    } finally {
      held.close();
    }
    assert.ok(!fs.existsSync(sock));
  });

  it('replaces a stale socket file but refuses a live one, closing what it made', async () => {
    const sock = path.join(dir, 'api.sock');
    const stale = await ListenSockets.open('old', [listen(`unix://${sock}`)]);
    for (const fd of stale.fds) fs.closeSync(fd); // the holder died: the file stays, nobody listens
    const fresh = await ListenSockets.open('api', [listen(`unix://${sock}`)]);
    const other = path.join(dir, 'other.sock');
    await assert.rejects(ListenSockets.open('api2', [listen(`unix://${other}`), listen(`unix://${sock}`)]), (e: Error) => {
      assert.ok(e instanceof ListenError);
      assert.match(e.message, new RegExp(`^api2: listen unix://${sock}: bind/listen\\(${sock}\\): Address already in use$`));
      return true;
    });
    assert.ok(!fs.existsSync(other), 'the socket made before the failure is gone');
    fresh.close();
  });
});
