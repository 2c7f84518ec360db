// A new `nsvisor run` adopts the instances a SIGKILLed one left: same pids, the output printed meanwhile in its logs (none lost across kills at random moments), counters (exits by reason too) going on, exec and stop working; a reused pid is not taken.
import { strict as assert } from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';

import { EXIT_REASONS } from '../../src/launch/exit-reason';
import { keeperDir } from '../../src/service/keeper-files';
import { parseText } from '../unit/metrics-fakes';
import { alive, killBackground, requireRoot, SLOWDOWN, waitFor, waitForAsync } from './helpers';
import { removeRoots, runAgain, RunningSupervisor, startRun, stopRun } from './supervisor-helpers';

/** A service's exits by reason as `status --json` and GET /metrics (nsvisor_service_exits_total) of `run` have them. */
async function exitsOf(run: RunningSupervisor, name: string): Promise<{ status: Record<string, number>; metrics: Record<string, number | undefined> }> {
  const url = (await waitForAsync('the metrics address', async () => /metrics on (http:\/\/\S+\/metrics)/.exec(run.output())))[1];
  // A connection of its own each time: a kept-alive one the server is closing meanwhile fails the request.
  const text = await new Promise<string>((resolve, reject) => {
    http.get(url, { agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
  const v = parseText(text);
  const metrics = Object.fromEntries(EXIT_REASONS.map((r) => [r, v.get(`nsvisor_service_exits_total{name="${name}",reason="${r}"}`)]));
  return { status: run.status().find((x: any) => x.name === name).exits, metrics };
}

/**
 * The numbers from..to that no match of `pattern` (its group 1) in `text` names. A line may be there twice: a
 * supervisor killed between writing a batch and taking it from the pipe leaves it for the next (at-least-once).
 */
function missing(text: string, pattern: RegExp, from: number, to: number): number[] {
  const seen = new Set([...text.matchAll(pattern)].map((m) => Number(m[1])));
  return Array.from({ length: to - from + 1 }, (_, i) => from + i).filter((n) => !seen.has(n));
}

describe('adoption: a new supervisor takes over the instances a SIGKILLed one left (root, real kernel)', function () {
  this.timeout(120_000 * SLOWDOWN);
  before(requireRoot);
  afterEach(killBackground);
  after(removeRoots);

  it('same pids, the lines printed while orphaned in `logs`, starts, restarts and exits by reason go on, stop ends it with its exit reason', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adopt-'));
    fs.chmodSync(dir, 0o777);
    const runs = path.join(dir, 'runs');
    // The first three runs end, one for each of three reasons: exit 0, exit 1, killed by SIGKILL (restarts follow); the
    // fourth prints a numbered line every 50 ms, and exits 3 on SIGTERM.
    const ends = 'case $n in 0) exit 0;; 1) exit 1;; 2) kill -KILL $$;; esac';
    const script = `n=$(cat ${runs} 2>/dev/null || echo 0); echo $((n+1)) > ${runs}; ${ends}; trap 'exit 3' TERM; i=0; while :; do echo "tick $i"; echo $i > ${path.join(dir, 'count')}; i=$((i+1)); sleep 0.05; done`;
    const services = {
      ticker: { command: ['sh', '-c', script], restart: { policy: 'always', delay: '10ms' } },
      // Without a pid namespace, and stopped by its own stop.signal.
      idle: { command: ['sleep', '1000'], isolate: ['mount', 'uts'], stop: { signal: 'SIGINT' } },
    };
    try {
      const first = await startRun(services, { adoptTimeout: `${20 * SLOWDOWN}s`, metrics: '127.0.0.1:0' });
      const before = await waitFor('both running, ticker after its restarts', () => {
        const s = first.status();
        return s.every((x: any) => x.state === 'running') && s.find((x: any) => x.name === 'ticker').restarts === 3 ? s : null;
      });
      const exitsBefore: Record<string, unknown> = { ticker: await exitsOf(first, 'ticker'), idle: await exitsOf(first, 'idle') };
      const expected = { completed: 1, error: 1, signaled: 1, oom_killed: 0, spawn_failed: 0, unhealthy: 0 };
      assert.deepEqual(exitsBefore.ticker, { status: expected, metrics: expected }, 'one exit of each of three reasons, in status and metrics');
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
        assert.deepEqual(await exitsOf(second, name), exitsBefore[name], `${name}: exits by reason go on, in status and metrics`);
        // exec joins the adopted instance: the same mount and uts namespaces as its main process.
        for (const ns of ['mnt', 'uts']) {
          const r = second.ctl(['exec', name, '--', 'readlink', `/proc/self/ns/${ns}`]);
          assert.equal(r.code, 0, `${name}: exec: ${r.stderr}`);
          assert.equal(r.stdout.trim(), fs.readlinkSync(`/proc/${a.pid}/ns/${ns}`), `${name}: exec in the adopted instance's ${ns} namespace`);
        }
      }
      // Every line from 0 on is in the log, those printed while no supervisor read included.
      await waitFor('lines after the adoption', () => /tick \d+\s*$/.test(second.ctl(['logs', '-n', '10000', 'ticker']).stdout));
      const logged = second.ctl(['logs', '-n', '10000', 'ticker']).stdout;
      const last = Math.max(...[...logged.matchAll(/tick (\d+)/g)].map((m) => Number(m[1])));
      assert.deepEqual(missing(logged, /tick (\d+)/g, 0, last), [], 'no line lost across the adoption');
      assert.equal(second.ctl(['stop', 'ticker']).code, 0);
      const stopped = second.status().find((x: any) => x.name === 'ticker');
      assert.deepEqual([stopped.state, stopped.lastExit.reason, stopped.lastExit.code], ['stopped', 'error', 3]);
      assert.deepEqual((await exitsOf(second, 'ticker')).metrics, { ...expected, error: 2 }, 'the exit after the adoption counted on top');
      assert.ok(!alive(before.find((x: any) => x.name === 'ticker').initPid));
      assert.equal(await stopRun(second), 0);
      const idleInit = before.find((x: any) => x.name === 'idle').initPid;
      assert.ok(!alive(idleInit), 'the adopted idle stopped with the supervisor');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('no line lost when the supervisor is SIGKILLed at random moments while a service prints fast, each time adopted anew', async () => {
    // 30,000 numbered lines (about 230 KiB: within what nsvisor-init holds while orphaned), 100 at a time, then it
    // waits; fewer under emulation, where each new supervisor takes a minute to start.
    const total = process.env.V2VM ? 8_000 : 30_000;
    const script = `i=1; while [ $i -le ${total} ]; do j=0; while [ $j -lt 100 ]; do echo "n $i"; i=$((i+1)); j=$((j+1)); done; sleep 0.01; done; exec sleep 1000`;
    let run: RunningSupervisor = await startRun({ counter: { command: ['sh', '-c', script], restart: { policy: 'never' } } }, { adoptTimeout: '60s' });
    const logFile = path.join(run.dir, 'logs', 'counter.log');
    const size = () => (fs.existsSync(logFile) ? fs.statSync(logFile).size : 0);
    const initPid = await waitFor('counter running', () => run.status().find((x: any) => x.state === 'running')?.initPid as number | undefined);
    const kills = process.env.V2VM ? 4 : 6;
    for (let k = 0; k < kills; k++) {
      // Odd rounds die at once after the adoption (the held output not yet acknowledged), even ones once the log
      // has grown by a random amount (a batch being written, or just written and not yet taken from the pipe).
      if (k % 2 === 0) {
        const target = size() + Math.floor(Math.random() * 24 * 1024);
        await waitFor(`the log past ${target} bytes`, () => size() >= target || fs.readFileSync(logFile, 'utf8').includes(`n ${total}\n`), 15_000, 5);
      }
      run.child.kill('SIGKILL');
      await run.exited;
      run = await runAgain(run);
      await waitFor(`the adoption (output so far: ${run.output()})`, () => /counter: adopted counter/.test(run.output()), 15_000, 5);
      console.log(`      kill ${k + 1} of ${kills}: adopted again, ${size()} bytes logged`);
    }
    const logTail = () => fs.readFileSync(logFile, 'utf8').split('\n').slice(-4).join(' / ');
    await waitFor(`line ${total} in the log`, () => fs.readFileSync(logFile, 'utf8').includes(` n ${total}\n`), 15_000, 50).catch((e) => {
      throw new Error(`${e.message}; the log ends with: ${logTail()}; the supervisor said: ${run.output().slice(-2000)}`);
    });
    const logged = run.ctl(['logs', '-n', String(2 * total), 'counter']).stdout;
    const numbered = logged.split('\n').filter((l) => / n \d+$/.test(l)).length;
    console.log(`      ${kills} kills: ${numbered} numbered lines logged for ${total} printed (${numbered - total} written twice)`);
    assert.equal(run.status().find((x: any) => x.name === 'counter').initPid, initPid, 'the same instance all along');
    assert.deepEqual(missing(logged, / n (\d+)$/gm, 1, total), [], 'every line 1..N is in `nsvisor logs`');
    assert.equal(await stopRun(run), 0);
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
