// `nsvisor upgrade` to a changed copy of the built program under HTTP load (same pids, the new version answering), and refused for a copy that cannot start.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as http from 'http';

import { LoadRun, startLoad } from '../../bench/http-load';
import { exampleService, freePort } from '../../bench/listen-example';
import { request } from '../../src/control/client';
import { cliAsync, killBackground, requireRoot, SLOWDOWN, waitFor } from './helpers';
import { copyProgram, ProgramCopy } from './program-copy';
import { removeRoots, runConfig, RunningSupervisor, stateOf, stopRun, writeConfig } from './supervisor-helpers';

/** One GET of the example server; rejects on any failure. */
function get(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    http
      .get({ port, host: '127.0.0.1', path: '/', agent: false }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
      })
      .on('error', reject);
  });
}

/** What the supervisor says of itself, or null while none answers (between the execve and the new control socket). */
async function supervisorInfo(run: RunningSupervisor): Promise<{ pid: number; version: string } | null> {
  try {
    const r = await request(run.socket, 'GET', '/v1/supervisor');
    return r.status === 200 ? r.body : null;
  } catch {
    return null;
  }
}

/** The service's status row, asked without blocking the event loop (the test's load runs on meanwhile). */
async function apiStatus(run: RunningSupervisor): Promise<any> {
  const r = await request(run.socket, 'GET', '/v1/status/api');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

interface Serving {
  run: RunningSupervisor;
  load: LoadRun;
  port: number;
  api: { pid: number; initPid: number };
}

/** `nsvisor run` of the copy with the example listen service, under HTTP load (4 clients, loopback, bounded). */
async function serveFrom(copy: ProgramCopy): Promise<Serving> {
  const port = await freePort();
  const run = await runConfig(writeConfig({ api: exampleService({ port }) }, { adoptTimeout: `${20 * SLOWDOWN}s` }), copy.bin);
  const api = await waitFor(`api running (${run.output()})`, () => (stateOf(run, 'api')?.state === 'running' ? stateOf(run, 'api') : null), 60_000 * SLOWDOWN);
  const load = startLoad({ url: `http://127.0.0.1:${port}/work?ms=10`, concurrency: 4, maxRequests: 1_000_000, maxMs: 200_000 * SLOWDOWN, timeoutMs: 15_000 * SLOWDOWN });
  await waitFor('the load answered', () => load.seen() >= 1, 20_000 * SLOWDOWN);
  return { run, load, port, api };
}

/** Ends the load (asserting no request failed) and the supervisor. */
async function finish({ run, load }: Serving): Promise<void> {
  load.stop();
  const result = await load.done;
  assert.deepEqual(result.failures, {}, `failed requests: ${JSON.stringify(result)}`);
  assert.ok(result.ok > 20, `only ${result.ok} requests were made`);
  assert.equal(await stopRun(run), 0);
}

describe('nsvisor upgrade to another program on disk, under HTTP load (root, real kernel)', function () {
  this.timeout(180_000 * SLOWDOWN);
  before(requireRoot);
  let copy: ProgramCopy;
  beforeEach(() => (copy = copyProgram()));
  afterEach(async () => {
    killBackground();
    copy.remove();
  });
  after(removeRoots);

  it('a changed version: same supervisor and service pids, 0 failed requests, the new version answering status', async () => {
    const s = await serveFrom(copy);
    try {
      const old = copy.version();
      assert.deepEqual(await supervisorInfo(s.run).then((i) => [i?.pid, i?.version]), [s.run.child.pid, old]);
      const next = `${old}-upgradetest`;
      copy.setVersion(next);
      // Nothing here blocks the event loop from the upgrade to the adoption: the load goes on all along.
      const r = await cliAsync(['upgrade', '--socket', s.run.socket]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `upgrading: pid ${s.run.child.pid} executes nsvisor ${next} (it ran ${old})\n`);
      const info = await waitFor('the new program answering', async () => {
        const i = await supervisorInfo(s.run);
        return i?.version === next ? i : null;
      }, 30_000 * SLOWDOWN);
      assert.equal(info!.pid, s.run.child.pid, 'the same supervisor pid');
      assert.equal(s.run.child.exitCode, null, 'the supervisor process did not end');
      const api = await waitFor('api adopted by the new program', async () => {
        const a = await apiStatus(s.run).catch(() => null); // the new control socket may not be there yet
        return a?.adoptedAt ? a : null;
      }, 20_000 * SLOWDOWN);
      assert.deepEqual([api.state, api.pid, api.initPid], ['running', s.api.pid, s.api.initPid], 'the same instance');
      const table = s.run.ctl(['status']).stdout.trim().split('\n');
      assert.match(table[table.length - 1], new RegExp(`^supervisor pid ${s.run.child.pid}, nsvisor ${next.replace(/[.]/g, '\\.')}, this program for \\d+s$`));
      for (let i = 0; i < 10; i++) await get(s.port);
      await finish(s);
    } finally {
      s.load.stop();
      await s.load.done;
      if (s.run.child.exitCode === null) await stopRun(s.run);
    }
  });

  it('a syntax error in a file it loads, a missing addon, a missing nsvisor-init: refused, naming the file, the services untouched', async () => {
    const s = await serveFrom(copy);
    const node = process.execPath;
    const refusal = (why: string) => `nsvisor: the new program does not start (${node} ${copy.bin} --version): ${why}; nothing was changed\n`;
    /** An upgrade refused with exactly `message`, exit 1, after which the same supervisor and instance serve on. */
    const refused = async (message: string) => {
      const r = await cliAsync(['upgrade', '--socket', s.run.socket]);
      assert.deepEqual([r.code, r.stdout, r.stderr], [1, '', message]);
      assert.deepEqual(await supervisorInfo(s.run).then((i) => [i?.pid, i?.version]), [s.run.child.pid, copy.version()]);
      const api = await apiStatus(s.run);
      assert.deepEqual([api.state, api.pid, api.initPid, api.adoptedAt ?? null], ['running', s.api.pid, s.api.initPid, null], 'not restarted, not adopted: untouched');
      for (let i = 0; i < 5; i++) await get(s.port);
    };
    try {
      const daemon = copy.at('dist/src/daemon.js');
      const good = fs.readFileSync(daemon, 'utf8');
      const line = good.split('\n').length + (good.endsWith('\n') ? 0 : 1);
      fs.writeFileSync(daemon, `${good}${good.endsWith('\n') ? '' : '\n'}this is broken\n`);
      await refused(refusal(`SyntaxError: Unexpected identifier 'is' at ${daemon}:${line}`));
      fs.writeFileSync(daemon, good);

      const addon = copy.at('build/Release/nsvisor.node');
      fs.renameSync(addon, `${addon}.moved`);
      await refused(refusal(`Error: Cannot find module '${addon}' (required by ${copy.at('dist/src/native.js')})`));
      fs.renameSync(`${addon}.moved`, addon);

      const init = copy.at('build/Release/nsvisor-init');
      fs.renameSync(init, `${init}.moved`);
      await refused(`nsvisor: the new program does not start (${init} --version): spawn ${init} ENOENT; nothing was changed\n`);
      fs.renameSync(`${init}.moved`, init);
      await finish(s);
    } finally {
      s.load.stop();
      await s.load.done;
      if (s.run.child.exitCode === null) await stopRun(s.run);
    }
  });
});
