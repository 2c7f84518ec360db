// The accept-spread page's conclusion, drawn from the measured numbers: what each mode gives, and which one `instances` should use by a stated rule.
import type { AcceptSpreadResult } from './accept-spread';
import type { Mode } from './accept-spread-deployment';
import type { ChangeResult, SteadyResult } from './accept-spread-measure';
import { median } from './stats';

const ms = (x: number) => `${x.toFixed(x < 10 ? 1 : 0)} ms`;
const range = (xs: number[], digits: number) => `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;

interface Pair {
  label: string;
  shared: SteadyResult;
  reuseport: SteadyResult;
}

function pairs(r: AcceptSpreadResult, connection: SteadyResult['connection']): Pair[] {
  const of = (mode: Mode) => r.steady.filter((s) => s.mode === mode && s.connection === connection);
  return of('shared').map((shared) => ({
    label: `${shared.clients} clients ${shared.request}`,
    shared,
    reuseport: of('reuseport').find((s) => s.clients === shared.clients && s.request === shared.request)!,
  }));
}

const runsWithIdle = (s: SteadyResult) => s.runs.filter((r) => r.ratio === null).length;
const medianOf = (s: SteadyResult, pick: (run: SteadyResult['runs'][number]) => number) => median(s.runs.map(pick));
const failed = (c: ChangeResult | undefined) => (c ? c.runs.reduce((a, r) => a + r.failed, 0) : NaN);

export function acceptSpreadConclusion(r: AcceptSpreadResult): string[] {
  const fresh = pairs(r, 'new');
  const kept = pairs(r, 'keep-alive');
  const change = (change: ChangeResult['change'], mode: Mode, request: string, migrateReq?: 0 | 1) =>
    r.changes.find((c) => c.change === change && c.mode === mode && c.request === request && c.migrateReq === migrateReq && !c.skipped);
  const requests = [...new Set(r.changes.map((c) => c.request))];
  const sum = (f: (request: string) => number) => requests.reduce((a, q) => a + f(q), 0);
  const total = (kind: ChangeResult['change'], mode: Mode, migrateReq?: 0 | 1) => sum((q) => failed(change(kind, mode, q, migrateReq)));
  const runs = r.options.runs;
  const cvs = (mode: Mode) => range(fresh.map((p) => medianOf(p[mode], (x) => x.cv)), 2);
  const ratios = (mode: Mode) => range(fresh.map((p) => medianOf(p[mode], (x) => x.ratio ?? Infinity)), 1);
  const idle = (mode: Mode) => `${kept.reduce((a, p) => a + runsWithIdle(p[mode]), 0)}/${kept.length * runs}`;
  const vs = (p: Pair, pick: (run: SteadyResult['runs'][number]) => number, show: (x: number) => string) =>
    `${p.label} ${show(medianOf(p.shared, pick))} → ${show(medianOf(p.reuseport, pick))}`;
  const keptFaster = kept.filter((p) => medianOf(p.reuseport, (x) => x.perSecond) > medianOf(p.shared, (x) => x.perSecond)).length;
  const p99Worse = fresh.filter((p) => medianOf(p.reuseport, (x) => x.p99) > medianOf(p.shared, (x) => x.p99)).length;
  const stallP99 = (mode: Mode) => requests.map((q) => ms(median(change('stall', mode, q)!.runs.map((x) => x.p99)))).join(' / ');
  const stallWorse = requests.filter((q) => median(change('stall', 'reuseport', q)!.runs.map((x) => x.p99)) > median(change('stall', 'shared', q)!.runs.map((x) => x.p99))).length;
  const migrated = total('scale-down', 'reuseport', 1);

  // The rule: the per-instance sockets are worth their extra machinery only if they lose nothing at a change, do not
  // lengthen the tail under load with a new connection per request, and a hung instance hurts them no more.
  const against = [
    ...(Number.isNaN(migrated) ? ['a scale-down could not be measured with tcp_migrate_req=1 here'] : migrated > 0 ? [`it failed ${migrated} requests at scale-down even with tcp_migrate_req=1`] : []),
    ...(p99Worse > fresh.length / 2 ? [`its p99 was longer in ${p99Worse} of the ${fresh.length} new-connection cells`] : []),
    ...(stallWorse > 0 ? [`a stalled instance took its p99 to ${stallP99('reuseport')} against ${stallP99('shared')}`] : []),
  ];
  const use: Mode = against.length ? 'shared' : 'reuseport';
  return [
    '### Conclusion',
    '',
    `- **Spread.** With a new connection per request the busiest instance served ${ratios('shared')}× the idlest with one shared`,
    `  queue and ${ratios('reuseport')}× with reuseport (median CV per cell ${cvs('shared')} against ${cvs('reuseport')}). With keep-alive clients,`,
    `  the shared queue left an instance without a single connection in ${idle('shared')} runs (the clients connect at once as the load`,
    `  starts, and whichever instances accept first keep those connections to the end), reuseport in ${idle('reuseport')} (a hash of`,
    '  few connections over 4 sockets).',
    `- **Speed, new connections** (shared → reuseport): p99 ${fresh.map((p) => vs(p, (x) => x.p99, ms)).join('; ')}. Requests per`,
    `  second: ${fresh.map((p) => vs(p, (x) => x.perSecond, (x) => x.toFixed(0))).join('; ')}.`,
    `- **Speed, keep-alive:** requests per second ${kept.map((p) => vs(p, (x) => x.perSecond, (x) => x.toFixed(0))).join('; ')}.`,
    `- **Changes** (failed requests over ${runs} runs of each request kind): rolling replacement ${total('rolling replacement', 'shared')} shared,`,
    `  ${total('rolling replacement', 'reuseport')} reuseport; scale-down ${total('scale-down', 'shared')} shared, ${total('scale-down', 'reuseport', 0)} reuseport with tcp_migrate_req=0, ${Number.isNaN(migrated) ? 'not measured' : migrated} with`,
    `  tcp_migrate_req=1. A stalled instance: p99 (${requests.join(' / ')}) ${stallP99('shared')} shared, ${stallP99('reuseport')} reuseport: its`,
    '  socket keeps taking its share of new connections, which wait until it runs again.',
    '',
    `**\`instances\` should use ${use === 'shared' ? 'the one shared accept queue' : 'one SO_REUSEPORT socket per instance'}**${against.length ? `: reuseport evens out the counts (and served more keep-alive requests per second in ${keptFaster} of ${kept.length} cells), but ${against.join('; ')}.` : ': it spreads evenly, loses nothing at a change and is no slower.'}`,
    'Rule: reuseport is chosen only if it fails no request at a change (with tcp_migrate_req=1), its p99 is not longer in most',
    'new-connection cells, and a stalled instance raises its p99 no more than the shared queue\'s.',
  ];
}
