// nsvisor reload against a real `nsvisor run`: changed env without downtime, limits in place, add and remove, invalid files, refused keys, SIGHUP.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';

import { startLoad } from '../../bench/http-load';
import { exampleService, freePort } from '../../bench/listen-example';
import { cliAsync, killBackground, requireRoot, SLOWDOWN, waitFor, waitForAsync } from './helpers';
import { editConfig as edit, memoryLimit, removeRoots, RunningSupervisor, startRun, stateOf, stopRun } from './supervisor-helpers';

/** GET of the example server: who answered, and the APP_VERSION it runs with. */
function get(port: number): Promise<{ pid: number; startedAt: string; version: string | null }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  });
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

const pids = (run: RunningSupervisor) => Object.fromEntries(run.status().map((s: any) => [s.name, s.pid]));

describe('nsvisor reload (root, real nsvisor run)', function () {
  this.timeout(180_000 * SLOWDOWN);
  before(requireRoot);
  afterEach(killBackground);
  after(removeRoots);

  let run: RunningSupervisor | null = null;
  afterEach(async () => {
    if (run) await stopRun(run);
    run = null;
  });

  async function start(services: Record<string, unknown>, extra: Record<string, unknown> = {}) {
    const started = await startRun(services, extra);
    run = started;
    await waitFor(`all running (${started.output()})`, () => started.status().every((s: any) => s.state === 'running'), 60_000);
    return started;
  }

  it('a changed environment of a listen service: replaced without downtime under load, the others untouched', async () => {
    const port = await freePort();
    const sup = await start({ api: exampleService({ port, version: 'v1' }), worker: { command: ['sleep', '3600'] } });
    const before = pids(sup);
    assert.equal((await get(port)).version, 'v1');
    const load = startLoad({ url: `http://127.0.0.1:${port}/work?ms=5`, concurrency: 8, maxRequests: 20_000, maxMs: 60_000 * SLOWDOWN, timeoutMs: 10_000 });
    const file = edit(sup, (c) => (c.services.api.env.APP_VERSION = 'v2'));
    const r = await cliAsync(['reload', '--socket', sup.socket, '-c', file]);
    load.stop();
    const result = await load.done;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /api: replace without downtime \(env\.APP_VERSION\): done/);
    assert.deepEqual(result.failures, {}, `failed requests during the reload: ${JSON.stringify(result)}`);
    assert.ok(result.ok > 20, `only ${result.ok} requests`);
    assert.equal((await get(port)).version, 'v2', 'new requests see the new value');
    assert.equal(pids(sup).worker, before.worker, 'the other service was not touched');
    assert.notEqual(pids(sup).api, before.api);
    assert.match(sup.output(), /reload: api: replace without downtime \(env\.APP_VERSION\): done/);
  });

  it('a memory limit raised and lowered in place: the cgroup file changes, the pid does not; --dry-run applies nothing', async () => {
    const sup = await start({ idle: { command: ['sleep', '3600'], resources: { memory: '64Mi' } } });
    const pid = stateOf(sup, 'idle').pid;
    assert.equal(memoryLimit(sup, 'idle'), String(64 * 2 ** 20));
    const file = edit(sup, (c) => (c.services.idle.resources.memory = '128Mi'));
    const dry = sup.ctl(['reload', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /the plan \(--dry-run: nothing applied\)\n {2}idle: update in place \(resources\.memory\)\n/);
    assert.equal(memoryLimit(sup, 'idle'), String(64 * 2 ** 20), 'a dry run writes nothing');
    assert.equal(sup.ctl(['reload', '-c', file]).code, 0);
    assert.equal(memoryLimit(sup, 'idle'), String(128 * 2 ** 20));
    edit(sup, (c) => (c.services.idle.resources.memory = '32Mi'));
    const lower = sup.ctl(['reload']);
    assert.equal(lower.code, 0, lower.stdout + lower.stderr);
    assert.match(lower.stdout, /idle: update in place \(resources\.memory\): done/);
    assert.equal(memoryLimit(sup, 'idle'), String(32 * 2 ** 20));
    assert.equal(stateOf(sup, 'idle').pid, pid, 'the same instance throughout');
    const json = JSON.parse(sup.ctl(['reload', '--json']).stdout);
    assert.deepEqual([json.status, json.steps], ['applied', []], 'nothing left to change');
  });

  it('a service added (after the one it depends on) and one removed (stopped, its series and socket gone), in one reload', async () => {
    const port = await freePort();
    const sup = await start({ a: { command: ['sleep', '3600'] }, b: { command: ['sleep', '3600'], listen: [`tcp://127.0.0.1:${port}`] } }, { metrics: '127.0.0.1:0' });
    const metricsUrl = (await waitForAsync('the metrics address', async () => /metrics on (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(sup.output())))[1];
    const scrape = async () => (await fetch(metricsUrl)).text();
    assert.match(await scrape(), /nsvisor_service_state\{name="b",state="running"\} 1/);
    assert.equal(await refused(port), false, 'b holds its socket');
    const aPid = stateOf(sup, 'a').pid;
    edit(sup, (c) => {
      delete c.services.b;
      c.services.c = { command: ['sleep', '3600'], dependsOn: ['a'] };
    });
    const r = sup.ctl(['reload']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, / {2}b: remove: done\n {2}c: add: done\n/);
    assert.deepEqual(sup.status().map((s: any) => [s.name, s.state]), [['a', 'running'], ['c', 'running']]);
    assert.equal(stateOf(sup, 'a').pid, aPid);
    assert.equal(await refused(port), true, "b's socket is closed");
    const text = await scrape();
    assert.doesNotMatch(text, /name="b"/, "b's series are gone");
    assert.match(text, /nsvisor_service_state\{name="c",state="running"\} 1/);
    assert.match(text, /nsvisor_reloads_total\{result="applied"\} 1/);
  });

  it('a file with errors changes nothing: exit 2, every problem printed, pids and limits as they were', async () => {
    const sup = await start({ idle: { command: ['sleep', '3600'], resources: { memory: '64Mi' } }, other: { command: ['sleep', '3600'] } });
    const before = pids(sup);
    const file = edit(sup, (c) => {
      c.services.idle.resources.memory = '32Mi';
      c.services.other.restart = { polcy: 'always' };
      c.services.other.dependsOn = ['nobody'];
    });
    const r = sup.ctl(['reload', '-c', file]);
    assert.equal(r.code, 2);
    assert.equal(
      r.stdout,
      `${file}: 2 problems; nothing was changed\n  services.other.restart.polcy: unknown key; did you mean "policy"?\n  services.other.dependsOn[0]: unknown service "nobody"\n`,
    );
    assert.deepEqual(pids(sup), before);
    assert.equal(memoryLimit(sup, 'idle'), String(64 * 2 ** 20));
  });

  it('a changed control socket is refused, and the rest of the file is not applied', async () => {
    const sup = await start({ idle: { command: ['sleep', '3600'], resources: { memory: '64Mi' } } });
    edit(sup, (c) => {
      c.supervisor.control = `${sup.dir}/elsewhere.sock`;
      c.services.idle.resources.memory = '32Mi';
    });
    const r = sup.ctl(['reload']);
    assert.equal(r.code, 2);
    assert.match(r.stdout, /supervisor\.control: cannot change while the supervisor runs \(restart nsvisor run to change it\)/);
    assert.equal(memoryLimit(sup, 'idle'), String(64 * 2 ** 20));
  });

  it('a replacement that cannot get ready: the old instance keeps serving, the reload exits 1 naming the step', async () => {
    const port = await freePort();
    const flag = `${fs.mkdtempSync('/var/tmp/nsvtest-reload-')}/broken`;
    const sup = await start({ api: exampleService({ port, version: 'v1', broken: { flag, how: 'hang' }, readyTimeout: '2s' }) });
    const before = await get(port);
    fs.writeFileSync(flag, '');
    try {
      const r = sup.ctl(['reload', '-c', edit(sup, (c) => (c.services.api.env.APP_VERSION = 'v2'))]);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /the reload failed at a step; what came before it was applied\n {2}api: replace without downtime \(env\.APP_VERSION\): FAILED: api: the new instance was not ready: not ready within 2000 ms .*; pid \d+ keeps serving\n/);
      const after = await get(port);
      assert.deepEqual([after.startedAt, after.version], [before.startedAt, 'v1'], 'the old instance still answers, with the old definition');
      assert.equal(stateOf(sup, 'api').state, 'running');
    } finally {
      fs.rmSync(flag, { force: true });
    }
  });

  it('SIGHUP reloads the file, as nsvisor reload does', async () => {
    const sup = await start({ idle: { command: ['sleep', '3600'], resources: { memory: '64Mi' } } });
    const pid = stateOf(sup, 'idle').pid;
    edit(sup, (c) => (c.services.idle.resources.memory = '96Mi'));
    sup.child.kill('SIGHUP');
    await waitFor(`the reload to be applied (${sup.output()})`, () => /reload: idle: update in place \(resources\.memory\): done/.test(sup.output()));
    assert.equal(memoryLimit(sup, 'idle'), String(96 * 2 ** 20));
    assert.equal(stateOf(sup, 'idle').pid, pid);
  });
});
