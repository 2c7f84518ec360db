// Fast text of the supervisor's gauges and counters, written exactly as prom-client's registry writes them, label strings cached.

/** What a prom-client Gauge or Counter holds: one entry per label set. */
interface SimpleMetric {
  name: string;
  help: string;
  type: string;
  hashMap: Record<string, { value: number; labels: Record<string, string | number> }>;
}

const escapeText = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabel = (s: string | number) => (typeof s === 'string' ? escapeText(s).replace(/"/g, '\\"') : s);

/** `{name="web",state="running"}` of a label object; cached per object (the resource series reuse theirs). */
const labelStrings = new WeakMap<object, string>();
function labelString(labels: Record<string, string | number>): string {
  let s = labelStrings.get(labels);
  if (s === undefined) {
    const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
    s = parts.length ? `{${parts.join(',')}}` : '';
    labelStrings.set(labels, s);
  }
  return s;
}

function valueString(v: number): string {
  if (Number.isNaN(v)) return 'Nan'; // sic: prom-client's spelling, which Prometheus accepts
  if (!Number.isFinite(v)) return v < 0 ? '-Inf' : '+Inf';
  return `${v}`;
}

/** Whether renderSimple can write this metric: a gauge or counter of prom-client (histograms are left to it). */
export function isSimple(metric: object): metric is SimpleMetric {
  const m = metric as Partial<SimpleMetric>;
  return (m.type === 'gauge' || m.type === 'counter') && typeof m.hashMap === 'object';
}

/**
 * The exposition of one gauge or counter, from what it holds now (its collect() is not called: the caller has
 * collected). OpenMetrics names a counter's family without "_total" and its samples with it.
 */
export function renderSimple(metric: SimpleMetric, openMetrics: boolean): string {
  const counterOm = openMetrics && metric.type === 'counter';
  const family = escapeText(counterOm ? metric.name.replace(/_total$/, '') : metric.name);
  const sample = counterOm ? `${family}_total` : family;
  const lines = [`# HELP ${family} ${escapeText(metric.help)}`, `# TYPE ${family} ${metric.type}`];
  for (const key in metric.hashMap) {
    const { labels, value } = metric.hashMap[key];
    lines.push(`${sample}${labelString(labels ?? {})} ${valueString(value)}`);
  }
  return lines.join('\n');
}
