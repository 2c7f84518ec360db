// Benchmark: GET /metrics rendering for 1,000 synthetic services on real cgroups; scrape latency and event loop lag meanwhile.
import * as os from 'os';
import { monitorEventLoopDelay } from 'perf_hooks';
import { EventEmitter } from 'eventemitter3';

import { CgroupPool } from '../src/cgroup';
import { detectLayout } from '../src/cgroup/detect';
import { MeteredService, SupervisorMetrics } from '../src/metrics';
import type { SupervisorEvents } from '../src/supervisor';
import { f2, lagOf, pageOpening, withBenchCgroups } from './cgroup-bench';
import { machineInfo, othersCpuMeter } from './machine';
import { summarize, Summary } from './stats';

/** The events of a restart of one service, as the supervisor emits them. */
function restart(sup: EventEmitter<SupervisorEvents>, name: string): void {
  sup.emit('state', name, 'starting', 'running', name);
  sup.emit('spawned', name, 0.004, name);
  sup.emit('ready', name, 0.01, name);
  sup.emit('state', name, 'running', 'starting', name);
}

export interface MetricsScrapeResult {
  layout: string;
  services: number;
  scrapes: number;
  series: number;
  bytes: number;
  /** Each scrape collects the stats afresh (as when Prometheus scrapes less often than once a second), ms. */
  freshScrapeMs: Summary;
  /** Scrapes served from the ~1 s cache: rendering only, ms. */
  cachedScrapeMs: Summary;
  /** Fresh scrapes with one service restarted before each: every lifecycle series is written again, ms. */
  churnScrapeMs: Summary;
  /** Event loop delay over all the scrapes, ms. */
  lagMs: { p50: number; p99: number; max: number };
  targets: { what: string; value: number; limit: number; met: boolean }[];
  /** The machine's 1-minute load average before and after: this is a shared machine. */
  load: [number, number];
  /** CPUs that other processes kept busy, on average, while the scrapes ran. */
  othersCpus: number;
}

async function timed(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return out;
}

export async function measureMetricsScrape(opts: { services?: number; scrapes?: number } = {}): Promise<MetricsScrapeResult> {
  const count = opts.services ?? 1000;
  const scrapes = opts.scrapes ?? 20;
  const pool = new CgroupPool();
  const loadBefore = os.loadavg()[0];
  return withBenchCgroups('metrics scrape', pool, async (driver, root) => {
    process.stderr.write(`metrics scrape: ${count} services on cgroups under ${root}\n`);
    const sup = Object.assign(new EventEmitter<SupervisorEvents>(), { services: new Map<string, MeteredService>() });
    for (let i = 0; i < count; i++) {
      const name = `svc-${i}`;
      const resources = { memory: 256 << 20, pids: 100, cpus: 0.5 };
      const cgroup = driver.create(name, resources);
      sup.services.set(name, { name, settings: { restart: { policy: 'on-failure' }, resources }, state: 'running', units: [{ key: name, cgroup, pid: null }], running: 1 });
    }
    const fresh = new SupervisorMetrics(sup, { stats: (t) => pool.collect(t), maxAgeMs: 0 });
    for (const name of sup.services.keys()) restart(sup, name);
    const first = await fresh.render(); // warm-up: pool threads started, files cached
    // Both registries are set up first: the loop's delay is measured during the scrapes only.
    const cached = new SupervisorMetrics(sup, { stats: (t) => pool.collect(t), maxAgeMs: 3_600_000, defaultMetrics: false });
    await cached.render();
    const lag = monitorEventLoopDelay({ resolution: 1 });
    const others = othersCpuMeter();
    lag.enable();
    const freshMs = await timed(scrapes, () => fresh.render());
    const cachedMs = await timed(scrapes, () => cached.render());
    let k = 0;
    const churnMs = await timed(scrapes, () => {
      restart(sup, `svc-${k++}`);
      return fresh.render();
    });
    lag.disable();
    const othersCpus = others();
    fresh.close();
    cached.close();
    const lagMs = lagOf(lag);
    const freshScrapeMs = summarize(freshMs);
    return {
      layout: detectLayout().kind,
      services: count,
      scrapes,
      series: first.body.split('\n').filter((l) => l && !l.startsWith('#')).length,
      bytes: first.body.length,
      freshScrapeMs,
      cachedScrapeMs: summarize(cachedMs),
      churnScrapeMs: summarize(churnMs),
      lagMs,
      load: [loadBefore, os.loadavg()[0]],
      othersCpus,
      targets: [
        { what: 'scrape p50 with a fresh collection (ms)', value: freshScrapeMs.p50, limit: 100, met: freshScrapeMs.p50 < 100 },
        { what: 'event loop p99 lag during scrapes (ms)', value: lagMs.p99, limit: 20, met: lagMs.p99 < 20 },
      ],
    };
  });
}

export function metricsScrapeMarkdown(r: MetricsScrapeResult): string {
  return [
    ...pageOpening('GET /metrics with 1,000 services', r.layout),
    `${r.services} synthetic services (running, each on a real cgroup with memory, cpu and pids limits), ${r.scrapes} scrapes each way;`,
    `${r.series} series, ${(r.bytes / 1024).toFixed(0)} KiB of text per scrape. The stats are read on the piscina pool (2 threads)`,
    `through the files held open per instance (one pread each; limit files once per instance and every 10 s).`,
    `Steady state first: no service changes state, so the lifecycle series' text is reused; the resource series are written afresh.`,
    `Load average (1 min) of this shared machine: ${r.load[0].toFixed(2)} before, ${r.load[1].toFixed(2)} after; other processes kept ${r.othersCpus.toFixed(2)} of the ${machineInfo().cpus} CPUs busy while the scrapes ran.`,
    '',
    '| what | p50 ms | p90 ms | p99 ms |',
    '| --- | ---: | ---: | ---: |',
    `| scrape, stats collected afresh | ${f2(r.freshScrapeMs.p50)} | ${f2(r.freshScrapeMs.p90)} | ${f2(r.freshScrapeMs.p99)} |`,
    `| scrape served from the ~1 s cache (render only) | ${f2(r.cachedScrapeMs.p50)} | ${f2(r.cachedScrapeMs.p90)} | ${f2(r.cachedScrapeMs.p99)} |`,
    `| scrape afresh, a service restarted before each (lifecycle text written again) | ${f2(r.churnScrapeMs.p50)} | ${f2(r.churnScrapeMs.p90)} | ${f2(r.churnScrapeMs.p99)} |`,
    `| event loop delay during all scrapes | ${f2(r.lagMs.p50)} | - | ${f2(r.lagMs.p99)} (max ${f2(r.lagMs.max)}) |`,
    '',
    ...r.targets.map((t) => `Target: ${t.what} < ${t.limit}: ${f2(t.value)} — ${t.met ? 'MET' : 'MISSED'}.`),
    '',
  ].join('\n');
}

