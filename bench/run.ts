// Entry point of `npm run bench`: spawn latency, init memory, cgroup stats, /metrics scrapes, network setup, init startup against tini, restarts under load, accept spread over instances, reload, the cost of the default protections, 1,000 services against supervisord and PM2; results into bench/results/.
import * as fs from 'fs';
import * as path from 'path';

import { measureAcceptSpread } from './accept-spread';
import { acceptSpreadMarkdown } from './accept-spread-report';
import { cgroupStatsMarkdown, measureCgroupStats } from './cgroup-stats';
import { measureInitMemory } from './init-memory';
import { initStartupMarkdown, measureInitStartup } from './init-startup';
import { measureMetricsScrape, metricsScrapeMarkdown } from './metrics-scrape';
import { measureNetSetup, netSetupMarkdown } from './net-setup';
import { machineInfo } from './machine';
import { measureReload, reloadMarkdown } from './reload';
import { measureRestartLoad, restartLoadMarkdown } from './restart-load';
import { measureScale, scaleMarkdown, scaleOptions } from './scale';
import { BenchResults, json, markdown, textSummary } from './report';
import { measureSeccompCost, seccompCostMarkdown } from './seccomp-cost';
import { IsolateSet, measureSpawnLatency } from './spawn-latency';
import { latencyTargets, memoryTarget } from './targets';
import { getTini } from './tini';

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

/** A part's result: the JSON document and the markdown page written to bench/results/NAME.{json,md}. */
interface PartResult {
  json: object;
  markdown: string;
}

/** The cgroup benches keep a run inside v2vm (pure v2 kernel, emulated CPU) in files of its own. */
const inVm = (name: string) => (process.env.V2VM ? `${name}-v2vm` : name);

/** The benchmarks that also run alone (BENCH_ONLY=NAME), each with the name of its result files. */
const PARTS: Record<string, { file: string; run: () => Promise<PartResult> }> = {
  'cgroup-stats': {
    file: inVm('cgroup-stats'),
    run: async () => {
      const r = await measureCgroupStats({ cgroups: Number(process.env.BENCH_CGROUPS ?? 1000), scrapes: Number(process.env.BENCH_SCRAPES ?? 20) });
      return { json: { machine: machineInfo(), ...r }, markdown: cgroupStatsMarkdown(r) };
    },
  },
  'metrics-scrape': {
    file: inVm('metrics-scrape'),
    run: async () => {
      const r = await measureMetricsScrape({ services: Number(process.env.BENCH_SERVICES ?? 1000), scrapes: Number(process.env.BENCH_SCRAPES ?? 20) });
      return { json: { machine: machineInfo(), ...r }, markdown: metricsScrapeMarkdown(r) };
    },
  },
  'net-setup': {
    file: 'net-setup',
    run: async () => {
      const r = await measureNetSetup({ netlink: Number(process.env.BENCH_NET_ROUNDS ?? 300), ip: Number(process.env.BENCH_NET_IP_ROUNDS ?? 60) });
      return { json: r, markdown: netSetupMarkdown(r) };
    },
  },
  'init-startup': {
    file: 'init-startup',
    run: async () => {
      const r = await measureInitStartup({ rounds: Number(process.env.BENCH_INIT_ROUNDS ?? 500), nodeRounds: Number(process.env.BENCH_INIT_NODE_ROUNDS ?? 20), memoryInstances: MEMORY_INSTANCES });
      return { json: r, markdown: initStartupMarkdown(r) };
    },
  },
  reload: {
    file: inVm('reload'),
    run: async () => {
      const r = await measureReload({ services: Number(process.env.BENCH_SERVICES ?? 1000) });
      return { json: { machine: machineInfo(), ...r }, markdown: reloadMarkdown(r) };
    },
  },
  'restart-load': {
    file: 'restart-load',
    run: async () => {
      const r = await measureRestartLoad({ restarts: Number(process.env.BENCH_RESTARTS ?? 5), concurrency: 8, workMs: 20, gapMs: 1500 });
      return { json: r, markdown: restartLoadMarkdown(r) };
    },
  },
  scale: {
    file: 'scale',
    run: async () => {
      const r = await measureScale(scaleOptions([]));
      return { json: r, markdown: scaleMarkdown(r) };
    },
  },
  'accept-spread': {
    file: 'accept-spread',
    run: async () => {
      const r = await measureAcceptSpread({ runs: Number(process.env.BENCH_ACCEPT_RUNS ?? 3), instances: 4, cellMs: 2000, spinMs: 3, changeClients: 64 });
      return { json: r, markdown: acceptSpreadMarkdown(r) };
    },
  },
  'seccomp-cost': {
    file: 'seccomp-cost',
    run: async () => {
      const r = await measureSeccompCost({
        rounds: Number(process.env.BENCH_SECCOMP_ROUNDS ?? 200),
        warmup: Number(process.env.BENCH_SECCOMP_WARMUP ?? 10),
        loopRuns: Number(process.env.BENCH_SECCOMP_LOOP_RUNS ?? 7),
        calls: Number(process.env.BENCH_SECCOMP_CALLS ?? 1_000_000),
        seed: SEED,
      });
      return { json: { machine: machineInfo(), ...r }, markdown: seccompCostMarkdown(r) };
    },
  },
};

/** Runs one part and writes its two files. */
async function runPart(name: string): Promise<void> {
  process.stderr.write(`${name}\n`);
  const { file, run } = PARTS[name];
  const { json, markdown } = await run();
  const md = markdown.endsWith('\n') ? markdown : `${markdown}\n`;
  fs.mkdirSync(resultsDir, { recursive: true });
  fs.writeFileSync(path.join(resultsDir, `${file}.json`), JSON.stringify(json, null, 2) + '\n');
  fs.writeFileSync(path.join(resultsDir, `${file}.md`), md);
  process.stdout.write(md);
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
  const tini = getTini();
  const initMemory = await measureInitMemory(MEMORY_INSTANCES, 300, tini.tini).finally(() => tini.cleanup());
  const results: BenchResults = {
    machine: { ...machine, tools: { ...machine.tools, tini: machine.tools.tini ?? (tini.version && `${tini.version} (${tini.source})`) } },
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
