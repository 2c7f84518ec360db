// What the default protections cost: sandbox spawn latency with the defaults, with seccomp unconfined (masks on) and privileged; a syscall loop filtered against unconfined.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { openCgroups } from '../src/cgroup';
import { sandbox, SandboxOptions } from '../src/sandbox';
import { buildBenchProgram } from './floor';
import { seededRandom, shuffled, summarize, Summary } from './stats';

/** The three ways a sandbox can be protected, from the defaults to none. */
const MODES = [
  { id: 'defaults', label: 'defaults (14 capabilities, default seccomp filter, masks, device allow-list)', keys: {} },
  { id: 'unconfined', label: 'seccomp unconfined (the rest of the defaults on)', keys: { seccomp: 'unconfined' } },
  { id: 'privileged', label: 'privileged: true (no protection)', keys: { privileged: true } },
] as const;
type ModeId = (typeof MODES)[number]['id'];

/** The calls of the loop: a raw getppid (the cheapest a filter can see) and a 1-byte read of /dev/zero. */
const CALLS = ['getppid', 'read'] as const;
const LOOP_MODES: ModeId[] = ['defaults', 'unconfined'];

export interface SeccompCostOptions {
  /** Spawns per mode, interleaved, after `warmup` thrown away. */
  rounds: number;
  warmup: number;
  /** Runs of the loop per call and mode, each of `calls` calls. */
  loopRuns: number;
  calls: number;
  seed: number;
}

export interface SpawnRow {
  mode: ModeId;
  label: string;
  summary: Summary;
  /** p50 and p90 over privileged's. */
  ratioP50: number;
  ratioP90: number;
}

export interface LoopRow {
  call: (typeof CALLS)[number];
  /** ns per call: the median over the runs, and every run. */
  filteredNs: number;
  unconfinedNs: number;
  ratio: number;
  runs: Record<'defaults' | 'unconfined', number[]>;
}

export interface SeccompCostResult {
  options: SeccompCostOptions;
  /** /proc/sys/net/core/bpf_jit_enable: 1 when the kernel compiles the filter to machine code, null when unreadable. */
  bpfJit: number | null;
  /** The machine's 1-minute load average before and after: other work on a shared machine slows every mode alike. */
  load: { before: number; after: number };
  spawn: SpawnRow[];
  loop: LoopRow[];
}

const devNull = fs.openSync('/dev/null', 'r+');

/** Runs one sandbox of `mode` and checks it completed; `stdout` where its output goes. */
async function run(mode: ModeId, command: string[], root: string, stdout = devNull): Promise<void> {
  const keys = MODES.find((m) => m.id === mode)!.keys as Partial<SandboxOptions>;
  const r = await sandbox({ command, ...keys, cgroupRoot: root, stdio: [devNull, stdout, devNull] });
  if (r.reason !== 'completed') throw new Error(`seccomp-cost: ${mode} sandbox of ${command.join(' ')}: ${r.reason}: ${r.error ?? `code ${r.code}, signal ${r.signal}`}`);
}

async function spawnLatency(o: SeccompCostOptions, root: string): Promise<SpawnRow[]> {
  const samples = new Map<ModeId, number[]>(MODES.map((m) => [m.id, []]));
  const random = seededRandom(o.seed);
  for (let round = 0; round < o.warmup + o.rounds; round++) {
    for (const m of shuffled([...MODES], random)) {
      const t0 = process.hrtime.bigint();
      await run(m.id, ['/bin/true'], root);
      if (round >= o.warmup) samples.get(m.id)!.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  const open = summarize(samples.get('privileged')!);
  return MODES.map((m) => {
    const summary = summarize(samples.get(m.id)!);
    return { mode: m.id, label: m.label, summary, ratioP50: summary.p50 / open.p50, ratioP90: summary.p90 / open.p90 };
  });
}

/** ns per call of one run of the loop in a sandbox of `mode` (its stdout goes to a file, read back). */
async function loopOnce(binary: string, call: string, calls: number, mode: ModeId, root: string, dir: string): Promise<number> {
  const file = path.join(dir, `${mode}-${call}.out`);
  const fd = fs.openSync(file, 'w');
  try {
    await run(mode, [binary, call, String(calls)], root, fd);
  } finally {
    fs.closeSync(fd);
  }
  const ns = Number(fs.readFileSync(file, 'utf8').trim());
  if (!Number.isFinite(ns) || ns <= 0) throw new Error(`seccomp-cost: syscall-loop ${call} under ${mode} printed ${JSON.stringify(fs.readFileSync(file, 'utf8'))}`);
  return ns;
}

async function syscallLoop(o: SeccompCostOptions, root: string): Promise<LoopRow[]> {
  const binary = buildBenchProgram('syscall-loop');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsvisor-seccomp-cost-'));
  const random = seededRandom(o.seed + 1);
  try {
    const rows: LoopRow[] = [];
    for (const call of CALLS) {
      const runs = { defaults: [] as number[], unconfined: [] as number[] };
      for (let i = 0; i < o.loopRuns; i++) {
        for (const mode of shuffled(LOOP_MODES, random)) runs[mode as 'defaults' | 'unconfined'].push(await loopOnce(binary, call, o.calls, mode, root, dir));
      }
      const filteredNs = summarize(runs.defaults).p50;
      const unconfinedNs = summarize(runs.unconfined).p50;
      rows.push({ call, filteredNs, unconfinedNs, ratio: filteredNs / unconfinedNs, runs });
    }
    return rows;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function bpfJit(): number | null {
  try {
    return Number(fs.readFileSync('/proc/sys/net/core/bpf_jit_enable', 'utf8').trim());
  } catch {
    return null;
  }
}

/** Both measurements, under a cgroup root of their own (removed after): the default sandbox of root has a cgroup for its device allow-list. */
export async function measureSeccompCost(o: SeccompCostOptions): Promise<SeccompCostResult> {
  const root = `/nsvisor-bench-${crypto.randomBytes(4).toString('hex')}`;
  const before = os.loadavg()[0];
  try {
    const spawn = await spawnLatency(o, root);
    const loop = await syscallLoop(o, root);
    return { options: o, bpfJit: bpfJit(), load: { before, after: os.loadavg()[0] }, spawn, loop };
  } finally {
    await openCgroups({ root, prepare: false }).removeRoot();
  }
}

const f3 = (v: number) => v.toFixed(3);
const x2 = (v: number) => `${v.toFixed(2)}x`;

export function seccompCostMarkdown(r: SeccompCostResult): string {
  const o = r.options;
  return [
    '## What the default protections cost',
    '',
    `Load average (1 min) ${r.load.before.toFixed(1)} before, ${r.load.after.toFixed(1)} after, on ${os.cpus().length} CPUs: other work shares the machine, and slows each mode alike (they are interleaved).`,
    '',
    `Spawn latency of \`sandbox({ command: ['/bin/true'] })\` (spawn, run, exit, reap, cgroup removed), the three modes interleaved in a shuffled order, ${o.rounds} runs each after ${o.warmup} warm-up rounds; ratios over privileged.`,
    '',
    '| mode | p50 ms | p90 ms | p50 / privileged | p90 / privileged |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...r.spawn.map((s) => `| ${s.label} | ${f3(s.summary.p50)} | ${f3(s.summary.p90)} | ${x2(s.ratioP50)} | ${x2(s.ratioP90)} |`),
    '',
    `A syscall-heavy loop (bench/syscall-loop.c): ${o.calls.toLocaleString('en-US')} calls timed inside the program, in a sandbox with the default filter against one with seccomp unconfined; the median of ${o.loopRuns} interleaved runs each. The kernel's BPF JIT is ${r.bpfJit === null ? 'unknown' : r.bpfJit ? 'on' : 'off'} (bpf_jit_enable ${r.bpfJit ?? '?'}).`,
    '',
    '| call | filtered ns/call | unconfined ns/call | ratio | filter cost ns/call |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...r.loop.map((l) => `| ${l.call === 'getppid' ? 'syscall(SYS_getppid)' : 'read(/dev/zero, 1 byte)'} | ${l.filteredNs.toFixed(1)} | ${l.unconfinedNs.toFixed(1)} | ${x2(l.ratio)} | ${(l.filteredNs - l.unconfinedNs).toFixed(1)} |`),
    '',
  ].join('\n');
}
