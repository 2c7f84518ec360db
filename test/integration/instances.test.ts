// Several instances of a listen service under HTTP load in a real `nsvisor run`: each serves, one killed is replaced alone, scale, a rolling restart.
import { strict as assert } from 'assert';

import { startLoad } from '../../bench/http-load';
import { exampleService, freePort } from '../../bench/listen-example';
import { cliAsync, killBackground, requireRoot, SLOWDOWN, waitFor } from './helpers';
import { removeRoots, RunningSupervisor, startRun, stateOf, stopRun } from './supervisor-helpers';

describe('instances of a service (root, real nsvisor run)', function () {
  this.timeout(240_000 * SLOWDOWN);
  before(requireRoot);
  afterEach(killBackground);
  after(removeRoots);

  let run: RunningSupervisor | null = null;
  afterEach(async () => {
    if (run) await stopRun(run);
    run = null;
  });

  async function start(instances: number) {
    const port = await freePort();
    const started = await startRun({ api: { ...exampleService({ port }), instances }, other: { command: ['sleep', '3600'] } });
    run = started;
    await waitFor(`api running (${started.output()})`, () => stateOf(started, 'api')?.state === 'running', 60_000);
    return { sup: started, port };
  }

  const load = (port: number) => startLoad({ url: `http://127.0.0.1:${port}/work?ms=5`, concurrency: 8, maxRequests: 50_000, maxMs: 120_000 * SLOWDOWN, timeoutMs: 10_000 });
  const instancePids = (sup: RunningSupervisor) => (stateOf(sup, 'api').instances as any[]).map((i) => i.pid);

  it('4 instances each serve; one stopped by kill(1) drains, is replaced, and the others serve on: no request fails', async () => {
    const { sup, port } = await start(4);
    const api = stateOf(sup, 'api');
    assert.deepEqual(api.instances.map((i: any) => [i.name, i.state]), [0, 1, 2, 3].map((k) => [`api.${k}`, 'running']));
    assert.deepEqual([api.runningInstances, api.desiredInstances], [4, 4]);
    const table = sup.ctl(['status']).stdout;
    assert.match(table, /^api\s+running \(4\/4\)/m);
    for (let k = 0; k < 4; k++) assert.match(table, new RegExp(`^api\\.${k}\\s+running\\s+\\d+`, 'm'));
    const before = instancePids(sup);
    const other = stateOf(sup, 'other').pid;
    const traffic = load(port);
    await waitFor('every instance answering', () => traffic.seen() >= 4);
    process.kill(before[2], 'SIGTERM'); // as kill(1) does: it finishes what it accepted, then exits

    await waitFor('instance 2 replaced', () => {
      const pids = instancePids(sup);
      return pids[2] !== null && pids[2] !== before[2] && stateOf(sup, 'api').state === 'running';
    }, 60_000);
    await waitFor('the replacement answering', () => traffic.seen() >= 5, 30_000);
    traffic.stop();
    const result = await traffic.done;
    const after = instancePids(sup);
    assert.deepEqual([after[0], after[1], after[3]], [before[0], before[1], before[3]], 'the other instances were not touched');
    assert.equal(stateOf(sup, 'other').pid, other);
    assert.deepEqual(result.failures, {}, JSON.stringify(result));
    assert.ok(result.instances.length >= 5, `answers came from ${result.instances.length} instances: the four and the replacement`);
    assert.equal(stateOf(sup, 'api').instances[2].restarts, 1);
  });

  it('scale up and down touches only the instances it adds or removes', async () => {
    const { sup } = await start(2);
    const before = instancePids(sup);
    const up = await cliAsync(['scale', '--socket', sup.socket, 'api', '4']);
    assert.equal(up.code, 0, up.stderr);
    assert.equal(up.stdout, 'api: 4 of 4 instances running\n');
    assert.deepEqual(instancePids(sup).slice(0, 2), before);
    const down = sup.ctl(['scale', 'api', '1']);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(stateOf(sup, 'api').pid, before[0]);
    assert.equal(stateOf(sup, 'api').instances, null, 'one instance: no instance rows');
    assert.equal(sup.ctl(['scale', 'api', '0']).code, 2);
  });

  it('a rolling restart replaces them one at a time without one failed request', async () => {
    const { sup, port } = await start(3);
    const before = instancePids(sup);
    const traffic = load(port);
    const r = await cliAsync(['restart', '--socket', sup.socket, 'api']);
    traffic.stop();
    const result = await traffic.done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /api: running .*restarted without downtime/);
    assert.deepEqual(result.failures, {}, JSON.stringify(result));
    assert.ok(result.ok > 20);
    const after = instancePids(sup);
    assert.ok(after.every((p, k) => p !== before[k]), 'every instance is new');
  });
});
