// Unit tests of taking an adopted instance's listen sockets back from its process: the same sockets, found by address; a missing one is named.
import { strict as assert } from 'assert';
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';

import type { ListenAddress } from '../../src/config/addresses';
import { addon } from '../../src/native';
import { takeListenSockets } from '../../src/service/adopted-sockets';

const tcp = (port: number): ListenAddress => ({ type: 'tcp', url: `tcp://127.0.0.1:${port}`, host: '127.0.0.1', port });

describe('takeListenSockets', () => {
  let child: ChildProcess;
  let port: number;
  before(async () => {
    // A process of ours (ptrace access to a child needs no privilege) listening on a port of its own.
    child = spawn(process.execPath, ['-e', "require('net').createServer().listen(0, '127.0.0.1', function () { console.log(this.address().port) })"]);
    port = await new Promise<number>((resolve) => child.stdout!.once('data', (d) => resolve(Number(String(d)))));
  });
  after(() => child.kill('SIGKILL'));

  it('copies the socket listening on the address: the very socket the process holds', () => {
    const sockets = takeListenSockets('web', child.pid!, [tcp(port)]);
    try {
      assert.equal(sockets.fds.length, 1);
      assert.deepEqual(addon.listeningAddress(sockets.fds[0]), { type: 'tcp', host: '127.0.0.1', port });
      const ours = fs.readlinkSync(`/proc/self/fd/${sockets.fds[0]}`);
      const theirs = fs.readdirSync(`/proc/${child.pid}/fd`).map((n) => fs.readlinkSync(`/proc/${child.pid}/fd/${n}`));
      assert.ok(theirs.includes(ours), `${ours} is one of the child's fds`);
    } finally {
      sockets.close();
    }
  });

  it('names an address the process does not listen on, and keeps no copy', () => {
    const before = fs.readdirSync('/proc/self/fd').length;
    const other = port === 65535 ? port - 1 : port + 1;
    assert.throws(() => takeListenSockets('web', child.pid!, [tcp(port), tcp(other)]), new RegExp(`web: cannot take its listen sockets back: its main process ${child.pid} holds no socket listening on tcp://127.0.0.1:${other}`));
    assert.equal(fs.readdirSync('/proc/self/fd').length, before, 'the copy of the socket that matched is closed');
  });

  it('listeningAddress is null for an fd that is not a listening socket', () => {
    const fd = fs.openSync('/dev/null', 'r');
    try {
      assert.equal(addon.listeningAddress(fd), null);
    } finally {
      fs.closeSync(fd);
    }
  });
});
