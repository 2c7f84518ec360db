// A new `nsvisor run` adopts the instances a SIGKILLed one left: same pids, the output printed meanwhile in its logs, counters going on, stop working; a reused pid is not taken.
import { strict as assert } from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { keeperDir } from '../../src/service/keeper-files';
import { alive, killBackground, requireRoot, SLOWDOWN, waitFor } from './helpers';
import { removeRoots, runAgain, startRun, stopRun } from './supervisor-helpers';


describe('adoption: a new supervisor takes over the instances a SIGKILLed one left (root, real kernel)', function () {
  this.timeout(120_000 * SLOWDOWN);
  before(requireRoot);
  afterEach(killBackground);
  after(removeRoots);

  it('same pids, the lines printed while orphaned in `logs`, starts and restarts go on, stop ends it with its exit reason', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adopt-'));
    fs.chmodSync(dir, 0o777);
    const once = path.join(dir, 'crashed-once');
    // The first run exits 1 (a restart follows); the second prints a numbered line every 50 ms, and exits 3 on SIGTERM.
    const script = `[ -e ${once} ] || { touch ${once}; exit 1; }; trap 'exit 3' TERM; i=0; while :; do echo "tick $i"; echo $i > ${path.join(dir, 'count')}; i=$((i+1)); sleep 0.05; done`;
    const services = {
      ticker: { command: ['sh', '-c', script], restart: { policy: 'always', delay: '10ms' } },
      // Without a pid namespace, and stopped by its own stop.signal.
      idle: { command: ['sleep', '1000'], isolate: ['mount', 'uts'], stop: { signal: 'SIGINT' } },
    };
    try {
      const first = await startRun(services, { adoptTimeout: '20s' });
      const before = await waitFor('both running, ticker after its restart', () => {
        const s = first.status();
        return s.every((x: any) => x.state === 'running') && s.find((x: any) => x.name === 'ticker').restarts === 1 ? s : null;
      });
      first.child.kill('SIGKILL');
      await first.exited;
      const count = () => Number(fs.readFileSync(path.join(dir, 'count'), 'utf8') || -1);
      const atKill = count();
      await waitFor('ticker to print a second of lines with no supervisor', () => count() >= atKill + 20);
      const second = await runAgain(first);
      await waitFor(`the adoption lines (output so far: ${second.output()})`, () => /ticker: adopted ticker/.test(second.output()) && /idle: adopted idle/.test(second.output()));
      const after = second.status();
      for (const name of ['ticker', 'idle']) {
        const [b, a] = [before, after].map((s) => s.find((x: any) => x.name === name));
        assert.equal(a.state, 'running', name);
        assert.equal(a.pid, b.pid, `${name}: the same main process`);
        assert.equal(a.initPid, b.initPid, `${name}: the same nsvisor-init`);
        assert.equal(a.starts, b.starts, `${name}: starts go on`);
        assert.equal(a.restarts, b.restarts, `${name}: restarts go on`);
        assert.ok(a.adoptedAt, `${name}: status says it was adopted`);
      }
      // Every line from 0 on is in the log, those printed while no supervisor read included.
      await waitFor('lines after the adoption', () => /tick \d+\s*$/.test(second.ctl(['logs', '-n', '10000', 'ticker']).stdout));
      const ticks = [...second.ctl(['logs', '-n', '10000', 'ticker']).stdout.matchAll(/tick (\d+)/g)].map((m) => Number(m[1]));
      assert.deepEqual(ticks, ticks.map((_, i) => i), 'no line lost or repeated across the adoption');
      assert.equal(second.ctl(['stop', 'ticker']).code, 0);
      const stopped = second.status().find((x: any) => x.name === 'ticker');
      assert.deepEqual([stopped.state, stopped.lastExit.reason, stopped.lastExit.code], ['stopped', 'error', 3]);
      assert.ok(!alive(before.find((x: any) => x.name === 'ticker').initPid));
      assert.equal(await stopRun(second), 0);
      const idleInit = before.find((x: any) => x.name === 'idle').initPid;
      assert.ok(!alive(idleInit), 'the adopted idle stopped with the supervisor');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a state file whose pid is another process now is not adopted: that process is left alone, the service starts anew', async () => {
    const first = await startRun({ idle: { command: ['sleep', '1000'] } }, { adoptTimeout: '20s' });
    const init = await waitFor('idle running', () => first.status().find((x: any) => x.state === 'running')?.initPid as number | undefined);
    first.child.kill('SIGKILL');
    await first.exited;
    // The pid reused: an unrelated process stands where the state file says the instance's nsvisor-init is.
    const stranger = spawn('sleep', ['1000'], { stdio: 'ignore' });
    try {
      const file = path.join(keeperDir(first.root), 'idle.json');
      fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), initPid: stranger.pid }));
      const second = await runAgain(first);
      await waitFor(`the refusal (output so far: ${second.output()})`, () => new RegExp(`instance idle .*pid ${stranger.pid} is another process now`).test(second.output()));
      const now = await waitFor('idle running anew', () => second.status().find((x: any) => x.state === 'running'));
      assert.notEqual(now.initPid, init, 'a new instance');
      assert.equal(now.starts, 1, 'counted afresh: nothing was taken from the state file');
      assert.ok(alive(stranger.pid!), 'the process with the reused pid is not signalled');
      await waitFor('the old instance gone (its cgroup was a leftover)', () => !alive(init));
      assert.equal(await stopRun(second), 0);
    } finally {
      stranger.kill('SIGKILL');
    }
  });
});
