// The bench's results as a plain-text summary (stdout), a markdown page and a JSON document for bench/results/.
import type { MemoryResult } from './init-memory';
import type { MachineInfo } from './machine';
import type { SetResult } from './spawn-latency';
import type { TargetResult } from './targets';

export interface BenchResults {
  machine: MachineInfo;
  config: { rounds: number; warmup: number; seed: number; memoryInstances: number; seconds: number };
  spawnLatency: SetResult[];
  initMemory: MemoryResult[];
  targets: TargetResult[];
}

const f3 = (v: number | null | undefined) => (v == null ? '-' : v.toFixed(3));
const x2 = (v: number | null | undefined) => (v == null ? '-' : `${v.toFixed(2)}x`);
const kb = (v: number | null) => (v === null ? '-' : v.toFixed(0));
const mark = (t: TargetResult) => (t.met === null ? 'SKIPPED' : t.met ? 'MET' : 'MISSED');

function header(r: BenchResults): string {
  const m = r.machine;
  return `${m.date}, kernel ${m.kernel}, node ${m.node}, ${m.cpus} cpus (${m.cpuModel}), ${r.config.rounds} interleaved rounds (+${r.config.warmup} warm-up), suite ${r.config.seconds.toFixed(0)} s`;
}

function latencyRows(set: SetResult): string[][] {
  return set.contenders.map((c) =>
    c.summary
      ? [c.label, f3(c.summary.p50), f3(c.summary.p90), x2(c.ratioP50), x2(c.ratioP90)]
      : [c.label, c.skipped ?? 'skipped', '', '', ''],
  );
}

function memoryRows(results: MemoryResult[]): string[][] {
  return results.map((m) =>
    m.skipped ? [m.label, m.skipped, '', '', ''] : [m.label, String(m.instances), kb(m.pssKb), kb(m.rssKb), kb(m.privateKb)],
  );
}

/** How far nsvisor is from the C program doing nsvisor's own steps: what Node and the addon path add. */
function overheadNote(set: SetResult): string | null {
  const steps = set.contenders.find((c) => c.id === 'floorSteps')?.summary;
  const nsv = set.contenders.find((c) => c.id === 'nsvisor')?.summary;
  if (!steps || !nsv) return null;
  return `nsvisor vs C doing nsvisor's own steps (rprivate /, /proc, hostname, lo, nsvisor-init): ${x2(nsv.p50 / steps.p50)} at p50 (+${f3(nsv.p50 - steps.p50)} ms), ${x2(nsv.p90 / steps.p90)} at p90`;
}

function textTable(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[1] && !r[2] && i === 1 ? 0 : r[i].length))));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(head), ...rows.map((r) => (r[1] && !r[2] ? `${r[0].padEnd(widths[0])}  ${r[1]}` : line(r)))].join('\n');
}

function mdTable(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

const LAT_HEAD = ['contender', 'p50 ms', 'p90 ms', 'p50/floor', 'p90/floor'];
const MEM_HEAD = ['process', 'instances', 'PSS KiB', 'RSS KiB', 'private KiB'];

export function textSummary(r: BenchResults): string {
  const out = [`nsvisor bench: ${header(r)}`, ''];
  for (const set of r.spawnLatency) {
    out.push(`Spawn latency, isolate ${set.namespaces.join(',')} (${r.config.rounds} runs each)`, textTable(LAT_HEAD, latencyRows(set)));
    out.push(`  (${overheadNote(set) ?? 'no steps floor'})`, '');
  }
  out.push(`nsvisor-init memory (average of ${r.config.memoryInstances} running instances, /proc/PID/smaps_rollup)`, textTable(MEM_HEAD, memoryRows(r.initMemory)), '');
  out.push('Targets', ...r.targets.map((t) => `  [${mark(t)}] ${t.name}: ${t.detail}`));
  return out.join('\n');
}

export function markdown(r: BenchResults): string {
  const out = ['<!-- Results of `npm run bench` (bench/run.ts): spawn latency and nsvisor-init memory, written by the suite itself. -->', '', '# nsvisor bench results', '', header(r), ''];
  out.push(`Tools: ${Object.entries(r.machine.tools).map(([k, v]) => `${k}: ${v ?? 'not installed'}`).join('; ')}.`, '');
  out.push('Wall time from call to resolved exit (spawn + run `/bin/true` + exit + reap). Every contender of both sets runs once per round, in a shuffled order, so machine noise hits all alike. The C floors time each iteration inside the program (its own start-up is not counted).', '');
  out.push('The C floor is the bare work (clone3 with the same flags, sync pipe, gid_map/uid_map, setresuid to root, unshare of time and cgroup as nsvisor does them). "C + nsvisor steps" adds what nsvisor chooses to do besides (rprivate /, /proc, hostname, lo up, nsvisor-init forking the command): the floor of its design. unshare and bwrap are started through child_process.spawn, as a Node program would; bwrap has no time namespace option.', '');
  for (const set of r.spawnLatency) {
    out.push(`## isolate ${set.namespaces.join(',')}`, '', mdTable(LAT_HEAD, latencyRows(set)), '');
    const note = overheadNote(set);
    if (note) out.push(`${note}.`, '');
    out.push(...set.contenders.filter((c) => c.command).map((c) => `- ${c.label}: \`${c.command}\``), '');
  }
  out.push(`## nsvisor-init memory`, '', `Average over ${r.config.memoryInstances} instances each running \`sleep 30\`, read from /proc/PID/smaps_rollup while all run.`, '', mdTable(MEM_HEAD, memoryRows(r.initMemory)), '');
  out.push('## Targets', '', ...r.targets.map((t) => `- **${mark(t)}** ${t.name}: ${t.detail}`), '');
  return out.join('\n');
}

/** Numbers rounded to what the clock can tell, so the file stays small and diffs stay readable. */
export function json(r: BenchResults): string {
  const round = (_k: string, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 1000) / 1000 : v);
  return JSON.stringify({ purpose: 'Results of `npm run bench` (bench/run.ts): spawn latency and nsvisor-init memory, written by the suite itself.', ...r }, round, 2) + '\n';
}
