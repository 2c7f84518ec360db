// Adoption of a service with listen sockets under HTTP load: no request fails while no supervisor runs, at the adoption, at a restart or an upgrade after it.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';

import { startLoad } from '../../bench/http-load';
import { exampleService, freePort } from '../../bench/listen-example';
import { request } from '../../src/control/client';
import { killBackground, requireRoot, SLOWDOWN, waitFor } from './helpers';
import { removeRoots, runAgain, RunningSupervisor, startRun, stateOf, stopRun } from './supervisor-helpers';

/** One GET of the example server over TCP or its unix socket; rejects on any failure. */
function get(target: { port: number } | { socketPath: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    http
      .get({ ...target, host: '127.0.0.1', path: '/', agent: false }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
      })
      .on('error', reject);
  });
}

/** The inodes of the sockets process pid holds ("socket:[N]" links in /proc/PID/fd). */
function socketInodes(pid: number): Set<string> {
  const dir = `/proc/${pid}/fd`;
  const links = fs.readdirSync(dir).map((n) => {
    try {
      return fs.readlinkSync(`${dir}/${n}`);
    } catch {
      return '';
    }
  });
  return new Set(links.filter((l) => l.startsWith('socket:')));
}

/** A restart asked of the control socket; asserts it was zero-downtime; the new main pid. */
async function zeroDowntimeRestart(run: RunningSupervisor): Promise<number> {
  const r = await request(run.socket, 'POST', '/v1/restart/api');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.restart, 'zero-downtime', JSON.stringify(r.body));
  return r.body.pid;
}

describe('adoption of a service with listen sockets, under HTTP load (root, real kernel)', function () {
  this.timeout(240_000 * SLOWDOWN);
  before(requireRoot);
  afterEach(killBackground);
  after(removeRoots);

  it('SIGKILL of the supervisor, a new one 2 s later, a restart, an upgrade: 0 failed requests, the same sockets held', async () => {
    const port = await freePort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adopt-listen-'));
    const unixPath = path.join(dir, 'api.sock');
    const first = await startRun({ api: exampleService({ port, unixPath }) }, { adoptTimeout: `${20 * SLOWDOWN}s` });
    let second: RunningSupervisor | null = null;
    const load = startLoad({ url: `http://127.0.0.1:${port}/work?ms=10`, concurrency: 4, maxRequests: 1_000_000, maxMs: 200_000 * SLOWDOWN, timeoutMs: 15_000 * SLOWDOWN });
    try {
      const before = await waitFor(`api running (${first.output()})`, () => (stateOf(first, 'api')?.state === 'running' ? stateOf(first, 'api') : null), 60_000 * SLOWDOWN);
      await waitFor('the load answered', () => load.seen() >= 1, 20_000 * SLOWDOWN);
      first.child.kill('SIGKILL');
      await first.exited;
      // No supervisor for 2 s: the service alone accepts, on the sockets it holds.
      const orphaned = Date.now();
      let answered = 0;
      await waitFor('2 s of answers with no supervisor', async () => {
        await Promise.all([get({ port }), get({ socketPath: unixPath })]);
        return ++answered >= 5 && Date.now() - orphaned >= 2000;
      }, 30_000 * SLOWDOWN);
      second = await runAgain(first);
      await waitFor('the adoption line', () => /api: adopted api/.test(second!.output()), 20_000 * SLOWDOWN).catch((e) => {
        throw new Error(`${e.message}: ${second!.output()}`);
      });
      const adopted = stateOf(second, 'api');
      assert.deepEqual([adopted.state, adopted.pid, adopted.initPid], ['running', before.pid, before.initPid], 'the same instance, adopted');
      assert.ok(adopted.adoptedAt);
      const served = socketInodes(before.pid);
      const held = [...socketInodes(second.child.pid!)].filter((s) => served.has(s));
      assert.equal(held.length, 2, `the new supervisor holds the service's own listen sockets, TCP and unix (service: ${[...served]})`);

      // The successor restarts on those sockets: the old instance drains, the new one accepts on the same queue.
      const restarted = await zeroDowntimeRestart(second);
      assert.notEqual(restarted, before.pid);
      await waitFor('answers from the restarted instance', () => load.seen() >= 2, 20_000 * SLOWDOWN);

      // An upgrade in place adopts it again, sockets included, and a restart after it is zero-downtime too.
      const up = second.ctl(['upgrade']);
      assert.equal(up.code, 0, up.stderr);
      const reAdopted = await waitFor('the upgraded program adopted api', () => {
        try {
          const s = stateOf(second!, 'api');
          return s?.adoptedAt && s.pid === restarted ? s : null;
        } catch {
          return null; // between the exec and the new control socket
        }
      }, 20_000 * SLOWDOWN);
      assert.equal(reAdopted.state, 'running');
      assert.equal(second.child.exitCode, null, 'the same supervisor process');
      await zeroDowntimeRestart(second);
      await waitFor('answers from the instance started after the upgrade', () => load.seen() >= 3, 20_000 * SLOWDOWN);
      load.stop();
      const result = await load.done;
      assert.deepEqual(result.failures, {}, `failed requests: ${JSON.stringify(result)}`);
      assert.ok(result.ok > 50, `only ${result.ok} requests were made`);
      await get({ socketPath: unixPath });
      assert.equal(await stopRun(second), 0);
      assert.ok(!fs.existsSync(unixPath), 'the unix socket file is removed at the stop, as one made by the successor would be');
    } finally {
      load.stop();
      await load.done;
      if (second && second.child.exitCode === null) await stopRun(second);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
