// Supervisor-held listen sockets and zero-downtime restart (SPEC 4.6), against a real `nsvisor run` under HTTP load.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as path from 'path';

import { parse } from 'yaml';

import { startLoad } from '../../bench/http-load';
import { exampleService, ExampleOptions, freePort } from '../../bench/listen-example';
import { request } from '../../src/control/client';
import { rootDirs } from './cgroup-helpers';
import { killBackground, requireRoot, SLOWDOWN, waitFor } from './helpers';
import { removeRoots, RunningSupervisor, startRun, stateOf, stopRun } from './supervisor-helpers';

/** GET over TCP or a unix socket; resolves with the parsed JSON answer of the example server. */
function get(target: { port: number } | { socketPath: string }, urlPath = '/'): Promise<{ pid: number; startedAt: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ ...target, host: '127.0.0.1', path: urlPath, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
  });
}

/** Whether a TCP connect to 127.0.0.1:port is refused. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

const restartOf = async (run: RunningSupervisor, name: string) => request(run.socket, 'POST', `/v1/restart/${name}`);

describe('listen sockets and zero-downtime restart (root)', function () {
  this.timeout(240_000 * SLOWDOWN);
  before(requireRoot);
  afterEach(killBackground);
  after(removeRoots);

  let run: RunningSupervisor | null = null;
  const dirs: string[] = [];
  const tempDir = (under: string) => {
    dirs.push(fs.mkdtempSync(path.join(under, 'nsvtest-listen-')));
    return dirs[dirs.length - 1];
  };
  afterEach(async () => {
    if (run) await stopRun(run);
    run = null;
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  async function startExample(extra: Omit<ExampleOptions, 'port'> = {}) {
    const port = await freePort();
    const started = await startRun({ api: exampleService({ port, ...extra }) });
    run = started;
    await waitFor(`api running (${started.output()})`, () => stateOf(started, 'api')?.state === 'running', 60_000);
    return { run: started, port };
  }

  it('passes the held sockets as fds 3.. and restarts under load without one failed request', async () => {
    const unixPath = path.join(tempDir('/tmp'), 'api.sock');
    const { run, port } = await startExample({ unixPath });
    const first = await get({ port });
    assert.equal(first.pid, 2, 'the server is the main process of its own pid namespace');
    assert.equal((await get({ socketPath: unixPath })).startedAt, first.startedAt, 'the unix socket reaches the same instance');
    assert.equal(fs.statSync(unixPath).mode & 0o777, 0o666);

    const load = startLoad({ url: `http://127.0.0.1:${port}/work?ms=20`, concurrency: 8, maxRequests: 1_000_000, maxMs: 180_000 * SLOWDOWN, timeoutMs: 15_000 * SLOWDOWN });
    // A slow request accepted by the old instance must be finished by it, not cut off by the restart.
    const slow = get({ port }, `/work?ms=${1500 * SLOWDOWN}`);
    await new Promise((r) => setTimeout(r, 200));
    const pids: number[] = [stateOf(run, 'api').pid];
    for (let i = 0; i < 3; i++) {
      const r = await restartOf(run, 'api');
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.restart, 'zero-downtime');
      assert.equal(r.body.state, 'running');
      pids.push(r.body.pid);
    }
    const slowAnswer = await slow;
    load.stop();
    const result = await load.done;
    assert.equal(slowAnswer.startedAt, first.startedAt, 'the slow request was answered by the instance that accepted it');
    assert.deepEqual(result.failures, {}, `failed requests during zero-downtime restarts: ${JSON.stringify(result)}`);
    assert.ok(result.ok > 50, `only ${result.ok} requests were made`);
    assert.equal(new Set(pids).size, 4, `each restart made a new instance: ${pids}`);
    assert.ok(result.instances.length >= 2, `answers came from ${result.instances.length} instances`);
    const status = stateOf(run, 'api');
    assert.deepEqual([status.starts, status.restarts], [4, 0], 'restarts asked for are starts, not automatic restarts');
    assert.equal(status.lastExit.reason, 'completed', 'the old instance drained and exited 0');
    assert.notEqual((await get({ socketPath: unixPath })).startedAt, first.startedAt);

    // A stop closes the sockets: nothing queues on a service that is not coming back.
    assert.equal(run.ctl(['stop', 'api']).code, 0);
    assert.ok(await refused(port), 'the port is closed once the service is stopped');
    assert.ok(!fs.existsSync(unixPath), 'the unix socket file is removed');
  });

  it('keep-alive clients see no failure across zero-downtime restarts either', async () => {
    const { run, port } = await startExample();
    const load = startLoad({ url: `http://127.0.0.1:${port}/work?ms=20`, concurrency: 8, maxRequests: 1_000_000, maxMs: 180_000 * SLOWDOWN, timeoutMs: 15_000 * SLOWDOWN, keepAlive: true });
    await new Promise((r) => setTimeout(r, 300 * SLOWDOWN));
    for (let i = 0; i < 3; i++) {
      const r = await restartOf(run, 'api');
      assert.equal(r.body.restart, 'zero-downtime', JSON.stringify(r.body));
      await new Promise((r) => setTimeout(r, 300 * SLOWDOWN));
    }
    load.stop();
    const result = await load.done;
    assert.deepEqual(result.failures, {}, `failed requests of keep-alive clients: ${JSON.stringify(result)}`);
    assert.ok(result.reused > result.requests / 2, `most requests went on reused connections: ${result.reused} of ${result.requests}`);
    assert.equal(result.instances.length, 4, `every instance answered some: ${result.instances}`);
    assert.equal(stateOf(run, 'api').lastExit.reason, 'completed', 'the old instance drained its keep-alive connections and exited 0');
  });

  it('keeps the old instance serving when the new one fails to start', async () => {
    // Not under /tmp: the service has a /tmp of its own.
    const flag = path.join(tempDir('/var/tmp'), 'broken');
    const { run, port } = await startExample({ broken: { flag, how: 'exit' } });
    const before = await get({ port });
    const pid = stateOf(run, 'api').pid;
    fs.writeFileSync(flag, '');
    const r = await restartOf(run, 'api');
    assert.equal(r.status, 500);
    assert.match(r.body.error, /the new instance was not ready: .*; pid \d+ keeps serving/);
    const status = stateOf(run, 'api');
    assert.equal(status.state, 'running');
    assert.equal(status.pid, pid);
    assert.equal(status.lastExit.reason, 'error', 'the broken instance is recorded');
    assert.equal((await get({ port })).startedAt, before.startedAt, 'the old instance still answers');
    const cli = run.ctl(['restart', 'api']);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /keeps serving/);
    fs.rmSync(flag);
    assert.equal(run.ctl(['restart', 'api']).code, 0, 'the fixed deploy restarts');
    assert.notEqual((await get({ port })).startedAt, before.startedAt);
  });

  it('a shutdown during a zero-downtime restart stops both instances and leaves nothing', async () => {
    const flag = path.join(tempDir('/var/tmp'), 'hang');
    const { run: started } = await startExample({ broken: { flag, how: 'hang' } });
    const root = rootDirs(parse(fs.readFileSync(path.join(started.dir, 'nsvisor.yaml'), 'utf8')).supervisor.cgroupRoot).find((d) => fs.existsSync(d))!;
    fs.writeFileSync(flag, '');
    const restarting = restartOf(started, 'api').catch((e: Error) => e);
    const instances = () => fs.readdirSync(root).filter((d) => d.startsWith('api'));
    const procsOf = (d: string) => fs.readFileSync(path.join(root, d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    // Both instances, each with its nsvisor-init and main process (the new one hanging, never ready).
    await waitFor('the second instance beside the first', () => instances().length === 2 && instances().every((d) => procsOf(d).length >= 2));
    const pids = instances().flatMap(procsOf);
    run = null;
    const code = await stopRun(started);
    assert.equal(code, 0);
    await restarting;
    for (const pid of pids) await waitFor(`process ${pid} to end`, () => !fs.existsSync(`/proc/${pid}`));
    assert.deepEqual(fs.readdirSync(root).filter((d) => d.startsWith('api')), [], 'both cgroups are removed');
  });

  it('the old instance dying during a restart interrupts it; the usual retry brings the service back, one instance', async () => {
    const flag = path.join(tempDir('/var/tmp'), 'hang');
    const { run: started, port } = await startExample({ broken: { flag, how: 'hang' } });
    const root = rootDirs(parse(fs.readFileSync(path.join(started.dir, 'nsvisor.yaml'), 'utf8')).supervisor.cgroupRoot).find((d) => fs.existsSync(d))!;
    const instances = () => fs.readdirSync(root).filter((d) => d.startsWith('api'));
    const procsOf = (d: string) => fs.readFileSync(path.join(root, d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean);
    const old = stateOf(started, 'api').pid;
    fs.writeFileSync(flag, '');
    const restarting = restartOf(started, 'api');
    await waitFor('the hanging new instance beside the old', () => instances().length === 2 && instances().every((d) => procsOf(d).length >= 2));
    fs.rmSync(flag); // the retry that follows starts a working instance
    process.kill(old, 'SIGKILL');
    const r = await restarting;
    assert.equal(r.status, 500);
    assert.match(r.body.error, /the new instance was interrupted/);
    await waitFor('api running again', () => stateOf(started, 'api')?.state === 'running', 60_000);
    await waitFor('one instance left', () => instances().length === 1);
    assert.notEqual(stateOf(started, 'api').pid, old);
    assert.ok((await get({ port })).startedAt);
  });

  it('restart --all restarts every running service in dependency order, without downtime where it can', async () => {
    const port = await freePort();
    run = await startRun({
      api: exampleService({ port }),
      worker: { command: ['sleep', '3600'], dependsOn: ['api'] },
    });
    const started = run;
    await waitFor('both running', () => started.status().every((s: any) => s.state === 'running'), 60_000);
    const before = await get({ port });
    const workerPid = stateOf(run, 'worker').pid;
    const all = run.ctl(['restart', '--all']);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.stdout, 'api: restarted without downtime\nworker: stopped and started\n');
    assert.notEqual(stateOf(run, 'worker').pid, workerPid);
    assert.notEqual((await get({ port })).startedAt, before.startedAt);
    const usage = run.ctl(['restart']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /give a service NAME or --all/);
  });

  it('retries while a listen address cannot be had, naming it', async () => {
    const port = await freePort();
    const squatter = net.createServer().listen(port, '127.0.0.1');
    await new Promise((r) => squatter.once('listening', r));
    try {
      run = await startRun({ api: exampleService({ port }) });
      const started = run;
      const status = await waitFor('api in backoff', () => {
        const s = stateOf(started, 'api');
        return s?.state === 'backoff' && s;
      });
      assert.match(status.failure, new RegExp(`api: listen tcp://127.0.0.1:${port}: bind/listen\\(127.0.0.1 port ${port}\\): Address already in use`));
      assert.equal(status.lastExit.reason, 'spawn_failed');
    } finally {
      await new Promise((r) => squatter.close(r));
    }
    const started = run;
    await waitFor('api running once the port is free', () => stateOf(started, 'api')?.state === 'running', 60_000);
  });
});
