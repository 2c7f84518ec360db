// Small typed builders for the dashboard: queries filtered by the variables, panels with units, rows laid out on the grid.
import type { DataSourceRef, GridPos, Panel, RowPanel } from '@grafana/schema';

export const DS: DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

/** The selector every per-service query carries; `extra` adds matchers. */
export const sel = (extra = '') => `job=~"$job", instance=~"$instance", name=~"$name"${extra ? `, ${extra}` : ''}`;
/** The supervisor's own series have no name label: job and instance only. */
export const selSupervisor = 'job=~"$job", instance=~"$instance"';

export interface Query {
  expr: string;
  legend?: string;
  /** Table panels ask for one instant value per series. */
  instant?: boolean;
}

function targets(queries: Query[]): Record<string, unknown>[] {
  return queries.map((q, i) => ({
    refId: String.fromCharCode(65 + i),
    datasource: DS,
    expr: q.expr,
    legendFormat: q.legend ?? '__auto',
    ...(q.instant ? { instant: true, range: false, format: 'table' } : { range: true }),
  }));
}

export interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  queries: Query[];
  /** Width in grid columns (of 24) and height in rows. */
  w: number;
  h: number;
  min?: number;
  max?: number;
}

const base = (type: string, p: PanelSpec, options: Record<string, unknown>, custom: Record<string, unknown> = {}): Panel => ({
  type,
  title: p.title,
  description: p.description,
  datasource: DS,
  targets: targets(p.queries),
  fieldConfig: { defaults: { unit: p.unit, ...(p.min !== undefined ? { min: p.min } : {}), ...(p.max !== undefined ? { max: p.max } : {}), custom }, overrides: [] },
  options,
  gridPos: { x: 0, y: 0, w: p.w, h: p.h },
});

export const stat = (p: PanelSpec): Panel =>
  base('stat', p, { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value', graphMode: 'none', textMode: 'auto' });

export const timeseries = (p: PanelSpec): Panel =>
  base('timeseries', p, { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } }, { fillOpacity: 10, lineWidth: 1, showPoints: 'never' });

export const stateTimeline = (p: PanelSpec): Panel =>
  base('state-timeline', p, { showValue: 'never', mergeValues: true, rowHeight: 0.8, legend: { displayMode: 'list', placement: 'bottom', showLegend: false } });

/** A table of instant queries merged into one row per service; `columns` gives each value column its unit. */
export function table(p: PanelSpec, columns: { title: string; unit: string }[]): Panel {
  const panel = base('table', p, { showHeader: true, sortBy: [{ displayName: 'name', desc: false }] });
  panel.transformations = [
    { id: 'merge', options: {} },
    { id: 'organize', options: { excludeByName: { Time: true, job: true, instance: true, __name__: true }, renameByName: Object.fromEntries(columns.map((c, i) => [`Value #${String.fromCharCode(65 + i)}`, c.title])) } },
  ];
  panel.fieldConfig!.overrides = columns.map((c) => ({ matcher: { id: 'byName', options: c.title }, properties: [{ id: 'unit', value: c.unit }] }));
  return panel;
}

/** A row and its panels, laid out left to right, wrapping at 24 columns; collapsed rows hold their panels inside. */
export function layout(rows: { title: string; collapsed?: boolean; panels: Panel[] }[]): (Panel | RowPanel)[] {
  const out: (Panel | RowPanel)[] = [];
  let id = 1;
  let y = 0;
  for (const r of rows) {
    const row: RowPanel = { type: 'row', title: r.title, collapsed: r.collapsed ?? false, id: id++, panels: [], gridPos: { x: 0, y: y++, w: 24, h: 1 } };
    out.push(row);
    let x = 0;
    let rowH = 0;
    for (const p of r.panels) {
      const g = p.gridPos as GridPos;
      if (x + g.w > 24) {
        x = 0;
        y += rowH;
        rowH = 0;
      }
      const placed: Panel = { ...p, id: id++, gridPos: { ...g, x, y } };
      x += g.w;
      rowH = Math.max(rowH, g.h);
      if (row.collapsed) row.panels.push(placed);
      else out.push(placed);
    }
    y += rowH;
  }
  return out;
}
