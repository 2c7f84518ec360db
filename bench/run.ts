// Entry point of `npm run bench`: spawn latency, init memory, cgroup stats, /metrics scrapes, network setup, restarts under load; results into bench/results/.
import * as fs from 'fs';
import * as path from 'path';

import { cgroupStatsMarkdown, measureCgroupStats, resultName, writeCgroupStats } from './cgroup-stats';
import { measureInitMemory } from './init-memory';
import { measureMetricsScrape, metricsResultName, metricsScrapeMarkdown, writeMetricsScrape } from './metrics-scrape';
import { measureNetSetup, netResultName, netSetupMarkdown, writeNetSetup } from './net-setup';
import { machineInfo } from './machine';
import { measureRestartLoad, restartLoadMarkdown, restartResultName, writeRestartLoad } from './restart-load';
import { BenchResults, json, markdown, textSummary } from './report';
import { IsolateSet, measureSpawnLatency } from './spawn-latency';
import { latencyTargets, memoryTarget } from './targets';

const resultsDir = path.resolve(__dirname, '..', '..', 'bench', 'results');

const SETS: IsolateSet[] = [
  { name: '5 namespaces', namespaces: ['pid', 'mount', 'uts', 'ipc', 'cgroup'] },
  { name: 'all 8 namespaces', namespaces: ['pid', 'mount', 'uts', 'ipc', 'net', 'user', 'cgroup', 'time'] },
];

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 800);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 20);
const SEED = 20240601;
const MEMORY_INSTANCES = 20;

/** BENCH_ONLY=NAME runs only that one of PARTS. */
const ONLY = process.env.BENCH_ONLY;

/** The benchmarks that also run alone (BENCH_ONLY=NAME): each measures, writes its files, and names them with its summary. */
const PARTS: Record<string, () => Promise<{ file: string; markdown: string }>> = {
  'cgroup-stats': async () => {
    const r = await measureCgroupStats({ cgroups: Number(process.env.BENCH_CGROUPS ?? 1000), scrapes: Number(process.env.BENCH_SCRAPES ?? 20) });
    writeCgroupStats(r);
    return { file: resultName, markdown: cgroupStatsMarkdown(r) };
  },
  'metrics-scrape': async () => {
    const r = await measureMetricsScrape({ services: Number(process.env.BENCH_SERVICES ?? 1000), scrapes: Number(process.env.BENCH_SCRAPES ?? 20) });
    writeMetricsScrape(r);
    return { file: metricsResultName, markdown: metricsScrapeMarkdown(r) };
  },
  'net-setup': async () => {
    const r = await measureNetSetup({ netlink: Number(process.env.BENCH_NET_ROUNDS ?? 300), ip: Number(process.env.BENCH_NET_IP_ROUNDS ?? 60) });
    writeNetSetup(r);
    return { file: netResultName, markdown: netSetupMarkdown(r) };
  },
  'restart-load': async () => {
    const r = await measureRestartLoad({ restarts: Number(process.env.BENCH_RESTARTS ?? 5), concurrency: 8, workMs: 20, gapMs: 1500 });
    writeRestartLoad(r);
    return { file: restartResultName, markdown: restartLoadMarkdown(r) };
  },
};

async function runPart(name: string): Promise<void> {
  process.stderr.write(`${name}\n`);
  const { file, markdown } = await PARTS[name]();
  process.stdout.write(`${markdown}\n`);
  process.stdout.write(`written: ${path.relative(process.cwd(), resultsDir)}/${file}.json, ${file}.md\n`);
}

async function main(): Promise<void> {
  if (process.geteuid!() !== 0) throw new Error('the bench needs root (it creates namespaces, mounts and cgroups)');
  if (ONLY) {
    if (!(ONLY in PARTS)) throw new Error(`BENCH_ONLY=${ONLY}: expected one of ${Object.keys(PARTS).join(', ')}`);
    return runPart(ONLY);
  }
  const t0 = Date.now();
  const machine = machineInfo();
  process.stderr.write(`spawn latency: ${WARMUP} warm-up + ${ROUNDS} rounds\n`);
  const spawnLatency = await measureSpawnLatency({
    sets: SETS,
    rounds: ROUNDS,
    warmup: WARMUP,
    seed: SEED,
    progress: (done, total) => {
      if (done % 50 === 0 || done === total) process.stderr.write(`  round ${done}/${total}\n`);
    },
  });
  process.stderr.write(`init memory: ${MEMORY_INSTANCES} instances each\n`);
  const initMemory = await measureInitMemory(MEMORY_INSTANCES);
  const results: BenchResults = {
    machine,
    config: { rounds: ROUNDS, warmup: WARMUP, seed: SEED, memoryInstances: MEMORY_INSTANCES, seconds: (Date.now() - t0) / 1000 },
    spawnLatency,
    initMemory,
    targets: [...spawnLatency.flatMap(latencyTargets), memoryTarget(initMemory)],
  };
  fs.mkdirSync(resultsDir, { recursive: true });
  fs.writeFileSync(path.join(resultsDir, 'bench.json'), json(results));
  fs.writeFileSync(path.join(resultsDir, 'bench.md'), markdown(results));
  process.stdout.write(textSummary(results) + '\n\n');
  process.stdout.write(`written: ${path.relative(process.cwd(), resultsDir)}/bench.json, bench.md\n`);
  for (const name of Object.keys(PARTS)) await runPart(name);
}

main().catch((e: Error) => {
  process.stderr.write(`bench failed: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
