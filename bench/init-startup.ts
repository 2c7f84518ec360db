// Benchmark: startup latency of nsvisor-init against Debian's tini side by side (`INIT -- /bin/true`, interleaved, timed in C by bench/init-startup.c), and their memory (PSS).
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import { initPath } from '../src/native';
import { buildBenchProgram } from './floor';
import { measureInitMemory, MemoryResult } from './init-memory';
import { MachineInfo, machineInfo, othersCpuMeter } from './machine';
import { summarize, Summary } from './stats';
import { getTini } from './tini';

const binNsvisor = path.resolve(__dirname, '..', '..', 'bin', 'nsvisor');
const TRUE = '/bin/true';
const SEED = 20240601;
/** How far nsvisor-init's p50 may be from tini's. */
export const STARTUP_RATIO_LIMIT = 1.2;

interface Contender {
  id: string;
  label: string;
  /** The command line as the results show it. */
  shown: string;
  argv: string[];
}

export interface StartupRow {
  id: string;
  label: string;
  command: string;
  runs: number;
  /** ms */
  summary: Summary;
  /** p50 against tini's p50 (null without tini). */
  vsTini: number | null;
}

export interface InitStartupResult {
  machine: MachineInfo;
  tini: { version: string | null; source: string };
  /** CPUs other processes kept busy while the runs were timed (a shared machine's noise). */
  othersBusyCpus: number;
  rows: StartupRow[];
  target: { what: string; ratio: number | null; limit: number; met: boolean | null; detail: string };
  memory: MemoryResult[];
}

/** CPU seconds of our reaped children so far (cutime + cstime of /proc/self/stat): the harness and what it ran. */
function childrenCpuSeconds(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100; // fields 16 and 17, in USER_HZ ticks
}

/** Runs the harness: `rounds` interleaved runs of each command line; per command line its samples in ms. */
function timeRuns(harness: string, rounds: number, list: Contender[]): number[][] {
  const args = [String(rounds), String(SEED), ...list.flatMap((c) => ['::', ...c.argv])];
  const out = execFileSync(harness, args, { encoding: 'utf8', maxBuffer: 64 << 20, env: { PATH: process.env.PATH } });
  return out.trim().split('\n').map((line) => line.split(' ').map((ns) => Number(ns) / 1e6));
}

export async function measureInitStartup(opts: { rounds: number; nodeRounds: number; memoryInstances: number }): Promise<InitStartupResult> {
  const harness = buildBenchProgram('init-startup');
  const tini = getTini();
  try {
    const fast: Contender[] = [
      { id: 'true', label: '/bin/true alone (the floor)', shown: TRUE, argv: [TRUE] },
      { id: 'nsvisor-init', label: 'nsvisor-init (static-pie)', shown: `build/Release/nsvisor-init -- ${TRUE}`, argv: [initPath, '--', TRUE] },
      { id: 'nsvisor-init-tini', label: 'nsvisor-init, drain off (exactly tini)', shown: `build/Release/nsvisor-init --drain 0 -- ${TRUE}`, argv: [initPath, '--drain', '0', '--', TRUE] },
      ...(tini.tini ? [{ id: 'tini', label: 'tini (Debian, dynamic)', shown: `tini -- ${TRUE}`, argv: [tini.tini, '--', TRUE] }] : []),
      ...(tini.tiniStatic ? [{ id: 'tini-static', label: 'tini-static (Debian)', shown: `tini-static -- ${TRUE}`, argv: [tini.tiniStatic, '--', TRUE] }] : []),
      { id: 'bin-init', label: 'nsvisor init (bin/nsvisor: sh, then nsvisor-init)', shown: `bin/nsvisor init -- ${TRUE}`, argv: [binNsvisor, 'init', '--', TRUE] },
    ];
    // How `nsvisor init` started before bin/nsvisor skipped Node: a few runs suffice at this cost.
    const slow: Contender[] = [{ id: 'node-init', label: 'nsvisor init through Node', shown: `node bin/nsvisor init -- ${TRUE}`, argv: [process.execPath, binNsvisor, 'init', '--', TRUE] }];
    const others = othersCpuMeter();
    const [t0, children0] = [Date.now(), childrenCpuSeconds()];
    const samples = [...timeRuns(harness, opts.rounds, fast), ...timeRuns(harness, opts.nodeRounds, slow)];
    const ours = (childrenCpuSeconds() - children0) / ((Date.now() - t0) / 1000);
    const othersBusyCpus = Math.max(0, others() - ours);
    const all = [...fast, ...slow];
    const tiniP50 = tini.tini ? summarize(samples[all.findIndex((c) => c.id === 'tini')]).p50 : null;
    const rows = all.map((c, i): StartupRow => {
      const summary = summarize(samples[i]);
      return { id: c.id, label: c.label, command: c.shown, runs: samples[i].length, summary, vsTini: tiniP50 ? summary.p50 / tiniP50 : null };
    });
    const ratio = rows.find((r) => r.id === 'nsvisor-init')!.vsTini;
    const what = `nsvisor-init -- /bin/true p50 within ${STARTUP_RATIO_LIMIT}x of tini -- /bin/true`;
    const target =
      ratio === null
        ? { what, ratio, limit: STARTUP_RATIO_LIMIT, met: null, detail: tini.source }
        : { what, ratio, limit: STARTUP_RATIO_LIMIT, met: ratio <= STARTUP_RATIO_LIMIT, detail: `${ratio.toFixed(2)}x` };
    const memory = await measureInitMemory(opts.memoryInstances, 300, tini.tini);
    return { machine: machineInfo(), tini: { version: tini.version, source: tini.source }, othersBusyCpus, rows, target, memory };
  } finally {
    tini.cleanup();
  }
}

const f3 = (v: number) => v.toFixed(3);
const mark = (met: boolean | null) => (met === null ? 'SKIPPED' : met ? 'MET' : 'MISSED');

export function initStartupMarkdown(r: InitStartupResult): string {
  const m = r.machine;
  return [
    '<!-- Written by `BENCH_ONLY=init-startup npm run bench` (bench/init-startup.ts); do not edit. -->',
    '',
    '# nsvisor-init startup against tini',
    '',
    `${m.date}, kernel ${m.kernel}, node ${m.node}, ${m.cpus} cpus (${m.cpuModel}). tini: ${r.tini.version ?? 'none'} (${r.tini.source}).`,
    '',
    'Wall time from posix_spawn to the reaped exit of each command line (the init starts, forks and execs `/bin/true`,',
    'reaps it and exits), stdio on /dev/null. One round runs each command line once, in a shuffled order, timed in C',
    `(bench/init-startup.c), so machine noise hits all alike. Meanwhile other processes kept ${r.othersBusyCpus.toFixed(1)} of the ${m.cpus} CPUs busy.`,
    '',
    '| contender | command | runs | p50 ms | p90 ms | p99 ms | p50 vs tini |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ...r.rows.map((row) => `| ${row.label} | \`${row.command}\` | ${row.runs} | ${f3(row.summary.p50)} | ${f3(row.summary.p90)} | ${f3(row.summary.p99)} | ${row.vsTini === null ? '-' : `${row.vsTini.toFixed(2)}x`} |`),
    '',
    `Target: ${r.target.what}: **${mark(r.target.met)}** (${r.target.detail}).`,
    '',
    '## Memory',
    '',
    'PSS, RSS and private memory (KiB) from /proc/PID/smaps_rollup, averaged over instances running `sleep 30`',
    '(nsvisor-init under `sandbox()`, as a service runs it; tini started directly), as in bench/results/bench.md.',
    '',
    '| process | instances | PSS KiB | RSS KiB | private KiB |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...r.memory.map((x) => (x.skipped ? `| ${x.label} | ${x.skipped} | | | |` : `| ${x.label} | ${x.instances} | ${x.pssKb!.toFixed(0)} | ${x.rssKb!.toFixed(0)} | ${x.privateKb!.toFixed(0)} |`)),
    '',
  ].join('\n');
}
