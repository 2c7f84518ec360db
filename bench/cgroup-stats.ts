// Benchmark: scrape the stats of 1,000 cgroups through the piscina pool; wall time per scrape and the event loop's lag meanwhile.
import { monitorEventLoopDelay } from 'perf_hooks';

import { CgroupPool } from '../src/cgroup';
import { detectLayout } from '../src/cgroup/detect';
import { statsOf } from '../src/workers/cgroup-stats';
import { f2, lagOf, pageOpening, withBenchCgroups } from './cgroup-bench';
import { creationMarkdown, CreationRow, measureCreation } from './cgroup-create';
import { summarize, Summary } from './stats';

export interface CgroupStatsResult {
  layout: string;
  cgroups: number;
  scrapes: number;
  threads: number;
  batch: number;
  /** Wall time of one scrape of all cgroups on the pool, ms. */
  scrapeMs: Summary;
  /** Event loop delay while scraping on the pool, ms. */
  lagMs: { p50: number; p99: number; max: number };
  /** For contrast: the same scrape done on the event loop itself (the loop is blocked this long). */
  inlineScrapeMs: Summary;
  target: { what: string; value: number; limit: number; met: boolean };
  /** Creating the cgroups: on the loop or the pool, alone or contended. */
  creation: CreationRow[];
}

export async function measureCgroupStats(opts: { cgroups?: number; scrapes?: number; threads?: number; batch?: number } = {}): Promise<CgroupStatsResult> {
  const count = opts.cgroups ?? 1000;
  const scrapes = opts.scrapes ?? 20;
  const threads = opts.threads ?? 2;
  const batch = opts.batch ?? 50;
  const pool = new CgroupPool({ threads, batch });
  return withBenchCgroups('cgroup stats', pool, async (driver, root) => {
    process.stderr.write(`cgroup stats: creating ${count} cgroups under ${root}\n`);
    const creation = await measureCreation(driver, count);
    const targets = driver.list().filter((n) => n !== 'contender' && n !== 'warm-up').map((n) => driver.open(n).statsTarget);
    await pool.collect(targets); // warm-up: threads started, files cached
    const wall: number[] = [];
    const lag = monitorEventLoopDelay({ resolution: 1 });
    lag.enable();
    for (let i = 0; i < scrapes; i++) {
      const t0 = process.hrtime.bigint();
      const stats = await pool.collect(targets);
      wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (stats.length !== targets.length || stats.some((s) => s.tasksLimit !== 100)) throw new Error('a scrape returned wrong stats');
    }
    lag.disable();
    const inline: number[] = [];
    for (let i = 0; i < Math.min(5, scrapes); i++) {
      const t0 = process.hrtime.bigint();
      targets.map(statsOf);
      inline.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const lagMs = lagOf(lag);
    return {
      layout: detectLayout().kind,
      cgroups: count,
      scrapes,
      threads,
      batch,
      scrapeMs: summarize(wall),
      lagMs,
      inlineScrapeMs: summarize(inline),
      target: { what: 'event loop p99 lag while collecting (ms)', value: lagMs.p99, limit: 10, met: lagMs.p99 < 10 },
      creation,
    };
  });
}

export function cgroupStatsMarkdown(r: CgroupStatsResult): string {
  return [
    ...pageOpening('cgroup stats collection', r.layout),
    `${r.cgroups} cgroups (each with memory, cpu and pids limits), ${r.scrapes} scrapes, piscina pool of ${r.threads} threads, ${r.batch} cgroups per task.`,
    '',
    '| what | p50 ms | p90 ms | p99 ms | max ms |',
    '| --- | ---: | ---: | ---: | ---: |',
    `| one scrape of all cgroups on the pool (wall) | ${f2(r.scrapeMs.p50)} | ${f2(r.scrapeMs.p90)} | ${f2(r.scrapeMs.p99)} | - |`,
    `| event loop delay meanwhile | ${f2(r.lagMs.p50)} | - | ${f2(r.lagMs.p99)} | ${f2(r.lagMs.max)} |`,
    `| the same scrape on the event loop (for contrast: the loop is blocked this long) | ${f2(r.inlineScrapeMs.p50)} | ${f2(r.inlineScrapeMs.p90)} | ${f2(r.inlineScrapeMs.p99)} | - |`,
    '',
    `Target: ${r.target.what} < ${r.target.limit}: ${f2(r.target.value)} — ${r.target.met ? 'MET' : 'MISSED'}.`,
    '',
    '## Creating the cgroups',
    '',
    `The ${r.cgroups} cgroups were made in four equal parts, one at a time, the loop running its timers between two:`,
    'on the event loop or on a worker thread, each alone and then while a shell loop made and removed cgroups beside them.',
    '',
    '| what | p50 ms | p99 ms | loop delay p50 ms | loop delay p99 ms |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...creationMarkdown(r.creation),
    '',
  ].join('\n');
}
