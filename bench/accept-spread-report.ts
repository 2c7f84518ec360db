// The accept-spread results page: per-instance spread, latency and failures of both modes, steady and while instances change.
import type { AcceptSpreadResult } from './accept-spread';
import { acceptSpreadConclusion } from './accept-spread-conclusion';
import type { ChangeResult, RunResult, SteadyResult } from './accept-spread-measure';
import { median } from './stats';

/** The middle of values that may be Infinity (the lower middle for an even count). */
const middle = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const ms = (x: number) => x.toFixed(x < 10 ? 1 : 0);
const pct = (x: number) => `${(100 * x).toFixed(0)}%`;

function failuresByKind(runs: RunResult[]): string {
  const all: Record<string, number> = {};
  for (const r of runs) for (const [k, n] of Object.entries(r.failures)) all[k] = (all[k] ?? 0) + n;
  return Object.entries(all).map(([k, n]) => `${n} ${k}`).join(', ') || '-';
}

function steadyRow(s: SteadyResult): string {
  const share = (pick: (counts: number[]) => number) => pct(median(s.runs.map((r) => pick(r.counts) / r.requests)));
  const idle = s.runs.filter((r) => r.ratio === null).length;
  const ratio = middle(s.runs.map((r) => r.ratio ?? Infinity));
  const cvs = s.runs.map((r) => r.cv);
  return [
    s.connection,
    s.clients,
    s.request,
    s.mode,
    median(s.runs.map((r) => r.perSecond)).toFixed(0),
    `${share((c) => c[0])} / ${share((c) => c[c.length - 1])}`,
    `${Number.isFinite(ratio) ? ratio.toFixed(2) : '∞'}${idle ? ` (an instance idle in ${idle}/${s.runs.length})` : ''}`,
    `${median(cvs).toFixed(2)} (${Math.min(...cvs).toFixed(2)}–${Math.max(...cvs).toFixed(2)})`,
    ms(median(s.runs.map((r) => r.p50))),
    ms(median(s.runs.map((r) => r.p99))),
    s.runs.reduce((a, r) => a + r.failed, 0),
  ].join(' | ');
}

function changeRow(c: ChangeResult): string {
  const head = [c.change, c.mode, c.migrateReq ?? '-', c.request];
  if (c.skipped) return [...head, `skipped: ${c.skipped}`, '', '', '', '', ''].join(' | ');
  return [
    ...head,
    c.runs.map((r) => r.failed).join(', '),
    failuresByKind(c.runs),
    median(c.runs.map((r) => r.requests)).toFixed(0),
    ms(median(c.runs.map((r) => r.p99))),
    ms(Math.max(...c.runs.map((r) => r.max))),
    median(c.runs.map((r) => r.changeSeconds)).toFixed(2),
  ].join(' | ');
}

export function acceptSpreadMarkdown(r: AcceptSpreadResult): string {
  const o = r.options;
  return [
    `## How connections spread over ${o.instances} instances: one shared accept queue against an SO_REUSEPORT socket per instance`,
    '',
    `${o.instances} example servers (examples/listen/server.js) per mode, each given its socket as fd 3 with LISTEN_FDS=1 and`,
    'LISTEN_PID (made with listen(4096); Node listens again on it with its default backlog, 511), in a network namespace of',
    'the bench\'s own; **shared**: one socket, one accept queue for all (nsvisor today);',
    '**reuseport**: one SO_REUSEPORT socket per instance, the kernel choosing by a hash of the connection. Load from',
    `bench/http-load.ts: a new connection per request or keep-alive clients; **light** = \`GET /\`, **spin** = ${o.spinMs} ms of CPU per`,
    `request (\`/spin?ms=${o.spinMs}\`). ${o.runs} runs of everything, ${o.cellMs / 1000} s per steady cell, the modes alternating; medians over the runs.`,
    '',
    '### Steady load',
    '',
    '| connections | clients | request | mode | req/s | busiest / idlest instance, share of requests | max/min | CV (range over runs) | p50 ms | p99 ms | failed |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...[...r.steady].sort((a, b) => a.connection.localeCompare(b.connection) * -1 || a.clients - b.clients || a.request.localeCompare(b.request)).map((s) => `| ${steadyRow(s)} |`),
    '',
    `### While the instances change (${o.changeClients} clients, a new connection per request)`,
    '',
    '- rolling replacement: each position in turn gets a new instance on the same socket (shared: the one queue; reuseport: that',
    '  position\'s socket, kept for its replacement), ready before the old one gets SIGTERM and drains;',
    '- scale-down: the last instance gets SIGTERM and drains; with reuseport its socket is closed as well (the held copy first,',
    '  so the socket goes when the instance stops accepting), with net.ipv4.tcp_migrate_req 0 and 1 in the namespace;',
    '- stall: the last instance is stopped (SIGSTOP) for 1 s and continued: hung, its socket still open.',
    '',
    '| change | mode | tcp_migrate_req | request | failed, per run | failures by kind | requests | p99 ms | max ms | change took s |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...r.changes.map((c) => `| ${changeRow(c)} |`),
    '',
    ...acceptSpreadConclusion(r),
    '',
    `Machine: ${r.machine.cpus} × ${r.machine.cpuModel}, kernel ${r.machine.kernel}, node ${r.machine.node}; load average ${r.loadAverageBefore.toFixed(2)} before, other work kept ${r.othersCpus.toFixed(2)} CPUs busy meanwhile; ${r.seconds.toFixed(0)} s.`,
  ].join('\n');
}
