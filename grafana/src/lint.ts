// Rules the dashboard must keep: rates over $__rate_interval, every selector filtered by the variables, known metrics, units.
import type { Dashboard, Panel, RowPanel } from '@grafana/schema';

export interface PanelQuery {
  panel: string;
  expr: string;
}

/** Every panel of the dashboard, those inside collapsed rows included. */
export function allPanels(d: Dashboard): Panel[] {
  return (d.panels ?? []).flatMap((p) => (p.type === 'row' ? (p as RowPanel).panels : [p as Panel]));
}

export function panelQueries(d: Dashboard): PanelQuery[] {
  return allPanels(d).flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title ?? '?', expr: String(t.expr) })));
}

/** Every rate/irate/increase window is $__rate_interval; increase may also span the dashboard's $__range. */
export function rateProblems(expr: string): string[] {
  const out: string[] = [];
  const fn = /\b(rate|irate|increase)\(/g;
  for (let m = fn.exec(expr); m; m = fn.exec(expr)) {
    const window = /\[([^\]]*)\]/.exec(expr.slice(m.index));
    const w = window?.[1];
    if (w !== '$__rate_interval' && !(m[1] === 'increase' && w === '$__range')) out.push(`${m[1]}(...) over [${w}], not [$__rate_interval]`);
  }
  return out;
}

const METRIC = /\b((?:nsvisor|process|nodejs)_[a-z0-9_]+)(\{[^}]*\})?/g;

/** The metric names an expression reads. */
export function metricsOf(expr: string): string[] {
  return [...expr.matchAll(METRIC)].map((m) => m[1]);
}

/** Every selector filters job and instance, and name where the series has one (nsvisor_service_*). */
export function selectorProblems(expr: string): string[] {
  const out: string[] = [];
  for (const [, metric, matchers = ''] of expr.matchAll(METRIC)) {
    const need = ['job=~"$job"', 'instance=~"$instance"', ...(metric.startsWith('nsvisor_service_') ? ['name=~"$name"'] : [])];
    for (const n of need) if (!matchers.includes(n)) out.push(`${metric}: no ${n}`);
  }
  return out;
}

/** A histogram's series name -> the metric's name. */
export const baseMetric = (series: string) => series.replace(/_(bucket|sum|count)$/, '');
