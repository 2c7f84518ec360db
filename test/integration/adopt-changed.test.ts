// Adoption under a changed configuration: the reload rules apply to each adopted instance (limits live, a new command replaces, a service gone or beyond a lowered count stops).
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { startLoad } from '../../bench/http-load';
import { exampleService, freePort } from '../../bench/listen-example';
import { alive, killBackground, requireRoot, SLOWDOWN, waitFor } from './helpers';
import { editConfig, memoryLimit, removeRoots, RunningSupervisor, runAgain, startRun, stateOf, stopRun } from './supervisor-helpers';

const MiB = 2 ** 20;

describe('adoption under a changed configuration: the reload rules (root, real kernel)', function () {
  this.timeout(120_000 * SLOWDOWN);
  before(requireRoot);
  afterEach(killBackground);
  after(removeRoots);

  it('a new limit is applied live (same pid), a new command replaces, a service gone and an instance beyond the count stop gracefully', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adopt-changed-'));
    fs.chmodSync(dir, 0o777);
    // Runs until SIGTERM, then leaves a file named after it (NSVISOR_INSTANCE tells the instances of pair apart).
    const waiter = (name: string) => ['sh', '-c', `trap 'echo bye > ${dir}/${name}$NSVISOR_INSTANCE; exit 0' TERM; while :; do sleep 0.05; done`];
    const services = {
      limited: { command: waiter('limited'), resources: { memory: '64Mi' } },
      changed: { command: ['sleep', '1000'] },
      same: { command: ['sleep', '1000'] },
      gone: { command: waiter('gone') },
      pair: { command: waiter('pair'), instances: 2 },
    };
    try {
      const first = await startRun(services, { adoptTimeout: `${20 * SLOWDOWN}s` });
      const before = await waitFor('every instance running', () => {
        const s = first.status();
        return s.length === 5 && s.every((x: any) => x.state === 'running' && x.runningInstances === x.desiredInstances) ? s : null;
      });
      const of = (name: string) => before.find((x: any) => x.name === name);
      assert.equal(memoryLimit(first, 'limited'), String(64 * MiB));
      first.child.kill('SIGKILL');
      await first.exited;
      editConfig(first, (c) => {
        c.services.limited.resources.memory = '96Mi';
        c.services.changed.command = ['sleep', '1001'];
        delete c.services.gone;
        c.services.pair.instances = 1;
      });
      const second = await runAgain(first);
      const said = (line: RegExp) => waitFor(`${line} (output so far: ${second.output()})`, () => line.test(second.output()));
      await said(/limited: adopted limited, definition changed: update in place \(resources\.memory\): done/);
      await said(/changed: adopted changed, definition changed: replace by stop, then start \(command\): done/);
      await said(/gone: adopted gone, not in this configuration \(no service gone\): stop: done/);
      await said(/pair: adopted pair\.1, not in this configuration \(instances: 1\): stop: done/);
      assert.doesNotMatch(second.output(), /same: adopted same, /, 'an unchanged service has no line of the rules');

      const after = second.status();
      const now = (name: string) => after.find((x: any) => x.name === name);
      assert.deepEqual(after.map((x: any) => x.name).sort(), ['changed', 'limited', 'pair', 'same']);
      for (const name of ['limited', 'same', 'pair']) {
        assert.equal(now(name).state, 'running', name);
        assert.equal(now(name).initPid, (of(name).instances?.[0] ?? of(name)).initPid, `${name}: adopted, the same nsvisor-init`);
      }
      assert.equal(memoryLimit(second, 'limited'), String(96 * MiB), 'the new limit is in its cgroup');
      assert.equal(now('changed').state, 'running');
      assert.notEqual(now('changed').initPid, of('changed').initPid, 'changed: a new instance');
      assert.ok(!alive(of('changed').initPid), 'the old instance of changed is gone');
      assert.equal(now('pair').desiredInstances, 1);
      for (const [file, init] of [['gone', of('gone').initPid], ['pair1', of('pair').instances[1].initPid]]) {
        assert.equal(fs.readFileSync(path.join(dir, file), 'utf8'), 'bye\n', `${file}: its SIGTERM handler ran`);
        assert.ok(!alive(init), `${file}: its nsvisor-init is gone`);
      }
      assert.ok(!fs.existsSync(path.join(dir, 'limited')) && !fs.existsSync(path.join(dir, 'pair0')), 'the instances kept were not signalled');
      assert.equal(await stopRun(second), 0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a service with listen whose environment changed is replaced without downtime once adopted: 0 failed requests', async () => {
    const port = await freePort();
    const first = await startRun({ api: exampleService({ port, version: 'v1' }) }, { adoptTimeout: `${20 * SLOWDOWN}s` });
    let second: RunningSupervisor | null = null;
    const load = startLoad({ url: `http://127.0.0.1:${port}/work?ms=10`, concurrency: 4, maxRequests: 1_000_000, maxMs: 200_000 * SLOWDOWN, timeoutMs: 15_000 * SLOWDOWN });
    try {
      const before = await waitFor(`api running (${first.output()})`, () => (stateOf(first, 'api')?.state === 'running' ? stateOf(first, 'api') : null), 60_000 * SLOWDOWN);
      await waitFor('the load answered', () => load.seen() >= 1, 20_000 * SLOWDOWN);
      first.child.kill('SIGKILL');
      await first.exited;
      editConfig(first, (c) => (c.services.api.env.APP_VERSION = 'v2'));
      second = await runAgain(first);
      const line = /api: adopted api, definition changed: replace without downtime \(env\.APP_VERSION\): done/;
      await waitFor(`the replacement (output so far: ${second.output()})`, () => line.test(second!.output()), 60_000 * SLOWDOWN);
      const now = stateOf(second, 'api');
      assert.equal(now.state, 'running');
      assert.notEqual(now.pid, before.pid, 'a new instance');
      assert.match(fs.readFileSync(`/proc/${now.pid}/environ`, 'utf8'), /(^|\0)APP_VERSION=v2\0/, 'of the new definition');
      await waitFor('answers from the new instance', () => load.seen() >= 2, 20_000 * SLOWDOWN);
      load.stop();
      const result = await load.done;
      assert.deepEqual(result.failures, {}, `failed requests: ${JSON.stringify(result)}`);
      assert.equal(await stopRun(second), 0);
    } finally {
      load.stop();
      await load.done;
      if (second && second.child.exitCode === null) await stopRun(second);
    }
  });
});
