// `nsvisor run` as a Type=notify service: READY=1 to its NOTIFY_SOCKET only once its services are ready, STOPPING=1 on SIGTERM.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { addon } from '../../src/native';
import { cli, cliPath, requireRoot, SLOWDOWN, waitFor, watched } from './helpers';
import { removeRoots, writeConfig } from './supervisor-helpers';

describe('nsvisor run tells its service manager (root)', function () {
  before(requireRoot);
  after(removeRoots);

  it('READY=1 once every service is ready, STOPPING=1 at SIGTERM, then exit 0', async () => {
    // web is ready when the test creates the gate file: until then, the manager must hear nothing.
    const gates = fs.mkdtempSync(path.join(os.tmpdir(), 'nsvisor-gate-'));
    const gate = path.join(gates, 'open');
    const { dir, socket, file } = writeConfig({
      web: { command: ['sleep', '3600'], ready: { exec: ['test', '-e', gate], timeout: `${60 * SLOWDOWN}s` } },
    });
    const heard: string[] = [];
    const manager = new addon.NotifySocket(path.join(dir, 'manager.sock'), (text) => heard.push(text));
    const { child, exited, output } = watched(process.execPath, [cliPath, 'run', '-c', file], { ...process.env, NOTIFY_SOCKET: path.join(dir, 'manager.sock') });
    let code: number | null;
    try {
      const state = () => {
        const r = cli(['status', '--socket', socket, '--json']);
        return r.code === 0 ? JSON.parse(r.stdout)[0].state : null;
      };
      assert.equal(await waitFor(`web starting (output: ${output()})`, () => fs.existsSync(socket) && state()), 'starting');
      assert.deepEqual(heard, [], 'nothing said while a service is not ready');
      fs.writeFileSync(gate, '');
      await waitFor(`READY=1 (output: ${output()})`, () => heard.length > 0);
      assert.deepEqual(heard, ['READY=1\nSTATUS=supervising 1 services\n']);
      assert.equal(state(), 'running');
      child.kill('SIGTERM');
      await waitFor(`STOPPING=1 (output: ${output()})`, () => heard.length > 1);
      assert.equal(heard[1], 'STOPPING=1\nSTATUS=SIGTERM: stopping all services\n');
    } finally {
      child.kill('SIGTERM');
      code = await exited;
      manager.close();
      fs.rmSync(gates, { recursive: true, force: true });
    }
    assert.equal(code, 0, output());
  });
});
