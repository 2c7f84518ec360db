// Unit tests of the metrics: every SPEC 5 name, type and label set, values from events and from a fake stats source.
import { strict as assert } from 'assert';

import { SupervisorMetrics } from '../../src/metrics';
import { fakeSource, FakeSupervisor, parseText, stats } from './metrics-fakes';

/** SPEC 5: name -> [type, labels]. */
const SPEC: Record<string, [string, string[]]> = {
  nsvisor_service_info: ['gauge', ['name', 'restart_policy', 'isolation']],
  nsvisor_service_state: ['gauge', ['name', 'state']],
  nsvisor_service_start_time_seconds: ['gauge', ['name']],
  nsvisor_service_starts_total: ['counter', ['name']],
  nsvisor_service_restarts_total: ['counter', ['name']],
  nsvisor_service_exits_total: ['counter', ['name', 'reason']],
  nsvisor_service_last_exit_code: ['gauge', ['name']],
  nsvisor_service_last_exit_time_seconds: ['gauge', ['name']],
  nsvisor_service_spawn_duration_seconds: ['histogram', ['name']],
  nsvisor_service_ready_duration_seconds: ['histogram', ['name']],
  nsvisor_service_shutdown_duration_seconds: ['histogram', ['name']],
  nsvisor_service_shutdown_kills_total: ['counter', ['name']],
  nsvisor_service_reaped_total: ['counter', ['name']],
  nsvisor_service_cpu_usage_seconds_total: ['counter', ['name']],
  nsvisor_service_cpu_user_seconds_total: ['counter', ['name']],
  nsvisor_service_cpu_system_seconds_total: ['counter', ['name']],
  nsvisor_service_cpu_throttled_seconds_total: ['counter', ['name']],
  nsvisor_service_spec_cpu_quota_seconds: ['gauge', ['name']],
  nsvisor_service_spec_cpu_period_seconds: ['gauge', ['name']],
  nsvisor_service_memory_usage_bytes: ['gauge', ['name']],
  nsvisor_service_memory_working_set_bytes: ['gauge', ['name']],
  nsvisor_service_memory_rss_bytes: ['gauge', ['name']],
  nsvisor_service_spec_memory_limit_bytes: ['gauge', ['name']],
  nsvisor_service_oom_kills_total: ['counter', ['name']],
  nsvisor_service_tasks: ['gauge', ['name']],
  nsvisor_service_spec_tasks_limit: ['gauge', ['name']],
  nsvisor_service_network_receive_bytes_total: ['counter', ['name', 'interface']],
  nsvisor_service_network_transmit_bytes_total: ['counter', ['name', 'interface']],
  nsvisor_service_pressure_cpu_waiting_seconds_total: ['counter', ['name']],
  nsvisor_service_pressure_memory_waiting_seconds_total: ['counter', ['name']],
  nsvisor_service_pressure_io_waiting_seconds_total: ['counter', ['name']],
  nsvisor_service_health_checks_total: ['counter', ['name', 'result']],
  nsvisor_service_instances: ['gauge', ['name']],
  nsvisor_service_desired_instances: ['gauge', ['name']],
  nsvisor_reloads_total: ['counter', ['result']],
  nsvisor_adopted_instances_total: ['counter', []],
  nsvisor_collect_duration_seconds: ['histogram', []],
};

function setup(opts: { maxAgeMs?: number } = {}) {
  const sup = new FakeSupervisor();
  sup.add('web', { isolate: ['pid', 'mount', 'net', 'uts', 'ipc', 'cgroup'], restart: { policy: 'always' }, resources: { memory: 32 * 2 ** 20, cpus: 0.5, pids: 64 } });
  sup.add('worker');
  const table = new Map<string, ReturnType<typeof stats>>();
  const source = fakeSource(table);
  const metrics = new SupervisorMetrics(sup, { stats: source, maxAgeMs: opts.maxAgeMs ?? 0 });
  const scrape = async () => parseText((await metrics.render()).body);
  return { sup, table, source, metrics, scrape };
}

describe('metrics: registry and naming', () => {
  it('declares every SPEC 5 metric with its type and labels, on its own registry, plus the default Node metrics', async () => {
    const { metrics } = setup();
    const json = await metrics.registry.getMetricsAsJSON();
    const byName = new Map(json.map((m) => [m.name, m]));
    for (const [name, [type, labels]] of Object.entries(SPEC)) {
      const m = byName.get(name);
      assert.ok(m, `${name} missing`);
      assert.equal(m.type, type, name);
      const declared = (metrics.registry.getSingleMetric(name) as unknown as { labelNames: string[] }).labelNames;
      assert.deepEqual([...declared].sort(), [...labels].sort(), name);
    }
    const own = json.filter((m) => m.name.startsWith('nsvisor_')).map((m) => m.name);
    assert.deepEqual(own.sort(), Object.keys(SPEC).sort(), 'no nsvisor_ metric outside SPEC 5');
    assert.ok(byName.has('process_cpu_user_seconds_total') && byName.has('nodejs_eventloop_lag_p99_seconds'), 'default metrics');
    const { register } = await import('prom-client');
    assert.equal(register.getSingleMetric('nsvisor_service_info'), undefined, 'not on the global registry');
  });

  it('exports info, state and zeroed counters for each service before anything happens', async () => {
    const { scrape } = setup();
    const v = await scrape();
    assert.equal(v.get('nsvisor_service_info{name="web",restart_policy="always",isolation="cgroup,ipc,mnt,net,pid,uts"}'), 1);
    assert.equal(v.get('nsvisor_service_info{name="worker",restart_policy="on-failure",isolation="cgroup,ipc,mnt,pid,uts"}'), 1);
    assert.equal(v.get('nsvisor_service_state{name="web",state="stopped"}'), 1);
    assert.equal(v.get('nsvisor_service_state{name="web",state="running"}'), 0);
    for (const reason of ['completed', 'error', 'signaled', 'oom_killed', 'spawn_failed']) {
      assert.equal(v.get(`nsvisor_service_exits_total{name="web",reason="${reason}"}`), 0, reason);
    }
    assert.equal(v.get('nsvisor_service_restarts_total{name="web"}'), 0);
    // Limits of the configuration while no instance runs.
    assert.equal(v.get('nsvisor_service_spec_memory_limit_bytes{name="web"}'), 32 * 2 ** 20);
    assert.equal(v.get('nsvisor_service_spec_memory_limit_bytes{name="worker"}'), 0);
    assert.equal(v.get('nsvisor_service_spec_cpu_quota_seconds{name="web"}'), 0.05);
    assert.equal(v.get('nsvisor_service_spec_cpu_quota_seconds{name="worker"}'), undefined, 'no quota: no series');
    assert.equal(v.get('nsvisor_service_spec_tasks_limit{name="web"}'), 64);
    assert.equal(v.get('nsvisor_service_memory_usage_bytes{name="web"}'), undefined, 'no usage while nothing runs');
  });
});

describe('metrics: lifecycle from the events', () => {
  it('counts starts, restarts and exits by reason; keeps the last exit and the state', async () => {
    const { sup, scrape } = setup();
    sup.run('web', 'a');
    sup.end('web', 'error');
    sup.run('web', 'b');
    sup.end('web', 'oom_killed');
    sup.run('web', 'c');
    const v = await scrape();
    assert.equal(v.get('nsvisor_service_starts_total{name="web"}'), 3);
    assert.equal(v.get('nsvisor_service_restarts_total{name="web"}'), 2);
    assert.equal(v.get('nsvisor_service_exits_total{name="web",reason="error"}'), 1);
    assert.equal(v.get('nsvisor_service_exits_total{name="web",reason="oom_killed"}'), 1);
    assert.equal(v.get('nsvisor_service_last_exit_code{name="web"}'), 137, 'SIGKILL as 128+9');
    assert.equal(v.get('nsvisor_service_last_exit_time_seconds{name="web"}'), 1_700_000_000);
    assert.equal(v.get('nsvisor_service_state{name="web",state="running"}'), 1);
    assert.equal(v.get('nsvisor_service_state{name="web",state="backoff"}'), 0);
    assert.equal(v.get('nsvisor_service_spawn_duration_seconds_count{name="web"}'), 3);
    assert.equal(v.get('nsvisor_service_spawn_duration_seconds_bucket{le="0.005",name="web"}'), 3);
    assert.equal(v.get('nsvisor_service_ready_duration_seconds_count{name="web"}'), 3);
    assert.ok(v.get('nsvisor_service_start_time_seconds{name="web"}')! > 1_600_000_000);
    assert.equal(v.get('nsvisor_service_oom_kills_total{name="web"}'), 1, 'an OOM exit its stats never showed still counts');
  });

  it('records shutdown durations (buckets past 60 s) and stops that needed SIGKILL', async () => {
    const { sup, scrape } = setup();
    sup.emit('stopped', 'worker', 0.3, false, 'worker');
    sup.emit('stopped', 'worker', 75, true, 'worker');
    const v = await scrape();
    assert.equal(v.get('nsvisor_service_shutdown_duration_seconds_count{name="worker"}'), 2);
    assert.equal(v.get('nsvisor_service_shutdown_duration_seconds_bucket{le="60",name="worker"}'), 1);
    assert.equal(v.get('nsvisor_service_shutdown_duration_seconds_bucket{le="120",name="worker"}'), 2);
    assert.equal(v.get('nsvisor_service_shutdown_kills_total{name="worker"}'), 1);
  });

  it('removes every series of a removed service', async () => {
    const { sup, table, scrape } = setup();
    sup.run('worker', 'w1');
    table.set('w1', stats({ cpuUsageSeconds: 2, memoryUsageBytes: 100 }));
    assert.ok([...(await scrape()).keys()].some((k) => k.includes('name="worker"')));
    sup.services.delete('worker');
    sup.emit('removed', 'worker');
    const left = [...(await scrape()).keys()].filter((k) => k.includes('name="worker"'));
    assert.deepEqual(left, []);
  });
});

describe('metrics: resources at scrape time', () => {
  it('exports the figures of the running instance, the kernel limits and usage', async () => {
    const { sup, table, scrape } = setup();
    sup.run('web', 'a');
    table.set('a', stats({ cpuUsageSeconds: 1.5, cpuUserSeconds: 1, cpuSystemSeconds: 0.5, cpuThrottledSeconds: 0.25, cpuQuotaSeconds: 0.05, cpuPeriodSeconds: 0.1, memoryUsageBytes: 5000, memoryWorkingSetBytes: 4000, memoryRssBytes: 3000, memoryLimitBytes: 33554432, oomKills: 0, tasks: 3, tasksLimit: 64, pressureCpuSeconds: 0.1, pressureMemorySeconds: 0.2, pressureIoSeconds: 0.3 }));
    const v = await scrape();
    const want: Record<string, number> = {
      cpu_usage_seconds_total: 1.5, cpu_user_seconds_total: 1, cpu_system_seconds_total: 0.5, cpu_throttled_seconds_total: 0.25,
      spec_cpu_quota_seconds: 0.05, spec_cpu_period_seconds: 0.1, memory_usage_bytes: 5000, memory_working_set_bytes: 4000,
      memory_rss_bytes: 3000, spec_memory_limit_bytes: 33554432, oom_kills_total: 0, tasks: 3, spec_tasks_limit: 64,
      pressure_cpu_waiting_seconds_total: 0.1, pressure_memory_waiting_seconds_total: 0.2, pressure_io_waiting_seconds_total: 0.3,
    };
    for (const [k, value] of Object.entries(want)) assert.equal(v.get(`nsvisor_service_${k}{name="web"}`), value, k);
    assert.equal(v.get('nsvisor_collect_duration_seconds_count'), 1);
  });

  it('keeps counters monotonic across restarts, and while nothing runs', async () => {
    const { sup, table, scrape } = setup();
    sup.run('web', 'a');
    table.set('a', stats({ cpuUsageSeconds: 5, oomKills: 1 }));
    assert.equal((await scrape()).get('nsvisor_service_cpu_usage_seconds_total{name="web"}'), 5);
    table.set('a', stats({ cpuUsageSeconds: 7, oomKills: 1 }));
    await scrape();
    sup.end('web', 'oom_killed');
    let v = await scrape();
    assert.equal(v.get('nsvisor_service_cpu_usage_seconds_total{name="web"}'), 7, 'kept while in backoff');
    assert.equal(v.get('nsvisor_service_oom_kills_total{name="web"}'), 1, 'the OOM kill seen in the stats is not counted twice');
    assert.equal(v.get('nsvisor_service_memory_usage_bytes{name="web"}'), undefined);
    sup.run('web', 'b');
    table.set('b', stats({ cpuUsageSeconds: 0.5, oomKills: 0 }));
    v = await scrape();
    assert.equal(v.get('nsvisor_service_cpu_usage_seconds_total{name="web"}'), 7.5);
    assert.equal(v.get('nsvisor_service_oom_kills_total{name="web"}'), 1);
  });

  it('adds what an instance used after the last collection, from the figures its cgroup had at the end', async () => {
    const { sup, table, scrape } = setup();
    sup.run('web', 'a');
    table.set('a', stats({ cpuUsageSeconds: 2, oomKills: 0 }));
    assert.equal((await scrape()).get('nsvisor_service_cpu_usage_seconds_total{name="web"}'), 2);
    sup.end('web', 'error', 'backoff', stats({ cpuUsageSeconds: 5, oomKills: 0 }));
    assert.equal((await scrape()).get('nsvisor_service_cpu_usage_seconds_total{name="web"}'), 5);
    // An instance no collection ever saw (it lived between two scrapes) counts whole.
    sup.run('web', 'b');
    sup.end('web', 'oom_killed', 'backoff', stats({ cpuUsageSeconds: 3, oomKills: 1 }));
    const v = await scrape();
    assert.equal(v.get('nsvisor_service_cpu_usage_seconds_total{name="web"}'), 8);
    assert.equal(v.get('nsvisor_service_oom_kills_total{name="web"}'), 1, 'the OOM kill in the final figures is not counted twice');
    sup.run('web', 'c');
    table.set('c', stats({ cpuUsageSeconds: 0.5 }));
    assert.equal((await scrape()).get('nsvisor_service_cpu_usage_seconds_total{name="web"}'), 8.5);
  });

  it('a zero-downtime restart: the old instance\'s draining and a failed replacement count, once each', async () => {
    const { sup, table, scrape } = setup();
    sup.run('web', 'a');
    table.set('a', stats({ cpuUsageSeconds: 2 }));
    await scrape();
    const old = sup.services.get('web')!.cgroup!;
    sup.run('web', 'b'); // serving now; the old one drains
    table.set('b', stats({ cpuUsageSeconds: 0.25 }));
    assert.equal((await scrape()).get('nsvisor_service_cpu_usage_seconds_total{name="web"}'), 2.25);
    sup.end('web', 'completed', 'running', stats({ cpuUsageSeconds: 3 }), old);
    assert.equal((await scrape()).get('nsvisor_service_cpu_usage_seconds_total{name="web"}'), 3.25, 'the second it drained counts');
    sup.end('web', 'completed', 'running', stats({ cpuUsageSeconds: 3 }), old);
    assert.equal((await scrape()).get('nsvisor_service_cpu_usage_seconds_total{name="web"}'), 3.25, 'once');
    sup.end('web', 'error', 'running', stats({ cpuUsageSeconds: 0.5 }), { statsTarget: { kind: 'v2', dirs: { v2: 'failed' } } });
    assert.equal((await scrape()).get('nsvisor_service_cpu_usage_seconds_total{name="web"}'), 3.75, 'a replacement that never served counts whole');
    // The old instance retired before any collection saw the new one.
    const current = sup.services.get('web')!.cgroup!;
    sup.run('web', 'c');
    table.set('c', stats({ cpuUsageSeconds: 0.1 }));
    sup.end('web', 'completed', 'running', stats({ cpuUsageSeconds: 1 }), current);
    assert.equal((await scrape()).get('nsvisor_service_cpu_usage_seconds_total{name="web"}'), 3.75 - 0.25 + 1 + 0.1);
  });

  it('shares one collection among concurrent scrapes and within maxAgeMs', async () => {
    const { sup, table, source, metrics } = setup({ maxAgeMs: 60_000 });
    sup.run('web', 'a');
    table.set('a', stats({ cpuUsageSeconds: 1 }));
    const bodies = await Promise.all([metrics.render(), metrics.render(), metrics.render()]);
    await metrics.render();
    assert.equal(source.calls, 1);
    assert.ok(bodies.every((b) => b.body.includes('nsvisor_service_cpu_usage_seconds_total{name="web"} 1')));
  });

  it('brings a cached collection up to date with exits: counters agree with the exit series, usage goes', async () => {
    const { sup, table, source, scrape } = setup({ maxAgeMs: 60_000 });
    sup.run('web', 'a');
    table.set('a', stats({ cpuUsageSeconds: 2, oomKills: 0, memoryUsageBytes: 100 }));
    assert.equal((await scrape()).get('nsvisor_service_memory_usage_bytes{name="web"}'), 100);
    sup.end('web', 'oom_killed');
    const v = await scrape();
    assert.equal(source.calls, 1, 'still the cached collection');
    assert.equal(v.get('nsvisor_service_exits_total{name="web",reason="oom_killed"}'), 1);
    assert.equal(v.get('nsvisor_service_oom_kills_total{name="web"}'), 1);
    assert.equal(v.get('nsvisor_service_cpu_usage_seconds_total{name="web"}'), 2);
    assert.equal(v.get('nsvisor_service_memory_usage_bytes{name="web"}'), undefined);
  });

  it('does not count an OOM kill twice when the instance ends while a collection reads it', async () => {
    const { sup, table, source, metrics, scrape } = setup();
    sup.run('web', 'a');
    table.set('a', stats({ oomKills: 1, cpuUsageSeconds: 1 }));
    const inFlight = metrics.render();
    // Until the collection has asked the source (its files are opened first); the pool has not answered.
    for (let i = 0; i < 100 && source.calls === 0; i++) await new Promise((r) => setTimeout(r, 1));
    assert.equal(source.calls, 1);
    sup.end('web', 'oom_killed');
    await inFlight;
    const v = await scrape();
    assert.equal(v.get('nsvisor_service_oom_kills_total{name="web"}'), 1);
  });

  it('collects again once the figures are older than maxAgeMs', async () => {
    const { sup, source, metrics } = setup({ maxAgeMs: 0 });
    sup.run('web', 'a');
    await metrics.render();
    await metrics.render();
    assert.equal(source.calls, 2);
  });
});

describe('metrics: formats', () => {
  it('renders OpenMetrics on request without renaming the counters of later text scrapes', async () => {
    const { metrics } = setup();
    const om = await metrics.render(true);
    assert.match(om.contentType, /^application\/openmetrics-text; version=1\.0\.0/);
    assert.match(om.body, /# EOF\n$/);
    assert.match(om.body, /^# TYPE nsvisor_service_starts counter$/m);
    assert.match(om.body, /^nsvisor_service_starts_total\{name="web"\} 0$/m);
    const text = await metrics.render(false);
    assert.match(text.contentType, /^text\/plain; version=0\.0\.4/);
    assert.match(text.body, /^# TYPE nsvisor_service_starts_total counter$/m);
  });
});
