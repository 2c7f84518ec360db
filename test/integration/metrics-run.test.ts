// GET /metrics of a real `nsvisor run`: values match what the services did (restarts, exits, OOM kills, limits); promtool agrees.
import { strict as assert } from 'assert';
import { execFileSync, spawnSync } from 'child_process';

import { killBackground, requireRoot, SLOWDOWN, waitForAsync } from './helpers';
import { removeRoots, RunningSupervisor, startRun, stateOf, stopRun } from './supervisor-helpers';
import { parseText } from '../unit/metrics-fakes';

const MiB = 2 ** 20;

const hasPromtool = () => spawnSync('promtool', ['--version']).status === 0;

describe('GET /metrics of nsvisor run (root, real kernel)', function () {
  before(requireRoot);
  // Asked before any scrape: a spawnSync that blocks the loop for seconds (the VM) between two scrapes lets the
  // server drop the kept-alive connection the next fetch then reuses ("other side closed").
  let promtool = false;
  before(() => void (promtool = hasPromtool()));
  let run: RunningSupervisor;
  let url = '';
  const scrape = async (accept?: string) => {
    const res = await fetch(url, { headers: accept ? { accept } : {} });
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
  };
  const values = async () => parseText((await scrape()).body);

  before(async () => {
    run = await startRun(
      {
        idle: { command: ['sleep', '3600'], resources: { memory: '32Mi', pids: 64, cpus: 0.5 } },
        // Double forks: each background sleep outlives its subshell and comes back to nsvisor-init, 2 and then 100 of them.
        orphans: { command: ['sh', '-c', '(sleep 0.1 &); (sleep 0.1 &); sleep 1; i=0; while [ $i -lt 100 ]; do (true &); i=$((i+1)); done; exec sleep 3600'] },
        crash: { command: ['sh', '-c', 'exit 3'], restart: { policy: 'always', delay: '100ms', maxDelay: '200ms' } },
        hog: {
          command: [process.execPath, '-e', 'const a = []; for (;;) a.push(Buffer.alloc(1 << 20, 1));'],
          resources: { memory: '64Mi' },
          restart: { delay: '1h', maxDelay: '1h' },
        },
      },
      { metrics: '127.0.0.1:0' },
    );
    const m = await waitForAsync('the metrics address', async () => /metrics on (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(run.output()));
    url = m[1];
  });
  after(async () => {
    if (run) assert.equal(await stopRun(run), 0, run.output());
    if (url) await assert.rejects(fetch(url), 'the endpoint is closed at shutdown');
    killBackground();
    await removeRoots();
  });

  it('exports what happened: restarts and exits by reason, the OOM kill, limits and states', async () => {
    const v = await waitForAsync('two restarts of crash and the OOM kill of hog', async () => {
      const v = await values();
      // The hog's exit and its backoff state read together: a scrape writes each metric in a turn of its own, so one
      // that spans the exit may have the exit counted and the state still "running".
      const hog = v.get('nsvisor_service_exits_total{name="hog",reason="oom_killed"}') === 1 && v.get('nsvisor_service_state{name="hog",state="backoff"}') === 1;
      const ok = (v.get('nsvisor_service_restarts_total{name="crash"}') ?? 0) >= 2 && hog;
      // A collection serves the scrapes of a second: the one that counts must have been made with idle running.
      return ok && v.get('nsvisor_service_state{name="idle",state="running"}') === 1 && v.has('nsvisor_service_memory_usage_bytes{name="idle"}') && v;
    }, 60_000);

    // idle: running, with its kernel limits and real usage.
    assert.equal(v.get('nsvisor_service_spec_memory_limit_bytes{name="idle"}'), 32 * MiB);
    assert.equal(v.get('nsvisor_service_spec_tasks_limit{name="idle"}'), 64);
    assert.equal(v.get('nsvisor_service_spec_cpu_quota_seconds{name="idle"}'), 0.05);
    assert.equal(v.get('nsvisor_service_spec_cpu_period_seconds{name="idle"}'), 0.1);
    assert.ok(v.get('nsvisor_service_memory_usage_bytes{name="idle"}')! > 0);
    assert.ok(v.get('nsvisor_service_tasks{name="idle"}')! >= 1);
    assert.equal(v.get('nsvisor_service_restarts_total{name="idle"}'), 0);
    assert.equal(v.get('nsvisor_service_info{name="idle",restart_policy="on-failure",isolation="cgroup,ipc,mnt,pid,uts"}'), 1);

    // crash: each instance exits 3; restarts = starts - 1; it loops in backoff/starting, one state at a time.
    const starts = v.get('nsvisor_service_starts_total{name="crash"}')!;
    assert.equal(v.get('nsvisor_service_restarts_total{name="crash"}'), starts - 1);
    const errors = v.get('nsvisor_service_exits_total{name="crash",reason="error"}')!;
    assert.ok(errors >= starts - 1 && errors <= starts, `${errors} exits for ${starts} starts`);
    assert.equal(v.get('nsvisor_service_last_exit_code{name="crash"}'), 3);
    const states = ['starting', 'running', 'stopping', 'stopped', 'backoff', 'failed'].map((s) => v.get(`nsvisor_service_state{name="crash",state="${s}"}`));
    assert.equal(states.reduce((a, b) => a! + b!, 0), 1, 'exactly one state is 1');
    assert.ok(stateOf(run, 'crash').restarts >= v.get('nsvisor_service_restarts_total{name="crash"}')!, 'never more than status says');

    // hog: OOM-killed once, waiting an hour in backoff (even a slow VM reads it there); the limit is the configuration's while no cgroup exists.
    assert.equal(v.get('nsvisor_service_state{name="hog",state="backoff"}'), 1);
    assert.equal(v.get('nsvisor_service_oom_kills_total{name="hog"}'), 1);
    assert.equal(v.get('nsvisor_service_last_exit_code{name="hog"}'), 137);
    assert.equal(v.get('nsvisor_service_spec_memory_limit_bytes{name="hog"}'), 64 * MiB);
    assert.equal(v.get('nsvisor_service_exits_total{name="hog",reason="error"}'), 0);
    const hog = stateOf(run, 'hog');
    assert.equal(hog.lastExit.reason, 'oom_killed');
    assert.ok(Math.abs(v.get('nsvisor_service_last_exit_time_seconds{name="hog"}')! - Date.parse(hog.lastExit.at) / 1000) < 0.01);

    assert.ok(v.get('nsvisor_service_spawn_duration_seconds_count{name="idle"}')! >= 1);
    assert.ok(v.get('nsvisor_service_ready_duration_seconds_count{name="idle"}')! >= 1);
    assert.ok(v.get('nsvisor_collect_duration_seconds_count')! >= 1);
    assert.ok(v.has('process_resident_memory_bytes'), 'prom-client default metrics');
  });

  it('counts the orphans nsvisor-init reaped, each once, flood included', async () => {
    const two = await waitForAsync('the first two orphans', async () => (await values()).get('nsvisor_service_reaped_total{name="orphans"}') === 2 || stateOf(run, 'orphans').reaped >= 2, 30_000);
    assert.ok(two);
    const v = await waitForAsync('102 orphans reaped', async () => {
      const v = await values();
      return (v.get('nsvisor_service_reaped_total{name="orphans"}') ?? 0) >= 102 && v;
    }, 30_000);
    await new Promise((r) => setTimeout(r, 300 * SLOWDOWN));
    assert.equal((await values()).get('nsvisor_service_reaped_total{name="orphans"}'), 102, 'no orphan counted twice');
    assert.equal(stateOf(run, 'orphans').reaped, 102, 'status --json agrees');
    assert.equal(v.get('nsvisor_service_reaped_total{name="idle"}'), 0, 'the main process is not an orphan');
    assert.equal(v.get('nsvisor_service_state{name="orphans",state="running"}'), 1);
  });

  it('counters never go backwards while services restart', async () => {
    let prev = new Map<string, number>();
    for (let i = 0; i < 8; i++) {
      const v = await values();
      for (const [k, x] of v) {
        if (!/^nsvisor_service_\w+_total\{/.test(k)) continue;
        if (prev.has(k)) assert.ok(x >= prev.get(k)!, `${k}: ${prev.get(k)} -> ${x}`);
      }
      prev = v;
      await new Promise((r) => setTimeout(r, 400));
    }
  });

  it('counts the CPU of an instance that lived and ended between two scrapes', async () => {
    // A supervisor of its own that nothing scrapes until its one service, a busy loop of 600 ms of user CPU time (not of
    // wall time: on a loaded machine that would be less CPU), has exited.
    const spin = 'while (process.cpuUsage().user < 600_000);';
    const burst = await startRun(
      { burst: { command: [process.execPath, '-e', spin], restart: { policy: 'on-failure' } } },
      { metrics: '127.0.0.1:0' },
    );
    try {
      const m = await waitForAsync('the metrics address', async () => /metrics on (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(burst.output()));
      await waitForAsync('burst to end', async () => stateOf(burst, 'burst')?.lastExit?.reason === 'completed');
      const v = parseText(await (await fetch(m[1])).text());
      const cpu = v.get('nsvisor_service_cpu_usage_seconds_total{name="burst"}')!;
      assert.ok(cpu >= 0.45, `the busy loop's CPU time is counted from its cgroup's last figures: ${cpu} s`);
      assert.ok(v.get('nsvisor_service_cpu_user_seconds_total{name="burst"}')! >= 0.3);
    } finally {
      assert.equal(await stopRun(burst), 0, burst.output());
    }
  });

  it('serves the text format, OpenMetrics on request, concurrent scrapes, and 404 elsewhere', async () => {
    const [a, b] = await Promise.all([scrape(), scrape()]);
    assert.equal(a.status, 200);
    assert.match(a.type, /^text\/plain; version=0\.0\.4/);
    assert.match(b.body, /^nsvisor_service_starts_total\{name="idle"\} 1$/m);
    const om = await scrape('application/openmetrics-text; version=1.0.0,text/plain;version=0.0.4;q=0.5');
    assert.match(om.type, /^application\/openmetrics-text/);
    assert.match(om.body, /# EOF\n$/);
    assert.match((await scrape()).body, /^# TYPE nsvisor_service_starts_total counter$/m, 'text names intact after OpenMetrics');
    assert.equal((await fetch(url.replace('/metrics', '/'))).status, 404);
  });

  it('promtool check metrics reports nothing for the nsvisor_ series', function () {
    if (!promtool) {
      if (process.env.NSVISOR_REQUIRE_PROMTOOL) throw new Error('promtool not installed (Debian: apt-get install prometheus)');
      this.skip();
    }
    return scrape().then(({ body }) => {
      const ours = body.split('\n').filter((l) => /^(# (HELP|TYPE) )?nsvisor_/.test(l)).join('\n') + '\n';
      const out = execFileSync('promtool', ['check', 'metrics'], { input: ours, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
      assert.equal(out.trim(), '');
    });
  });
});
