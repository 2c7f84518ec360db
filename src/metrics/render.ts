// Fast text of the supervisor's own metrics, written exactly as prom-client's registry writes them, label strings cached.

/** What a prom-client Gauge or Counter holds: one entry per label set. */
interface SimpleMetric {
  name: string;
  help: string;
  type: string;
  hashMap: Record<string, { value: number; labels: Record<string, string | number> }>;
}

const escapeText = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabel = (s: string | number) => (typeof s === 'string' ? escapeText(s).replace(/"/g, '\\"') : s);

/** `name="web",state="running"` of a label object; cached per object (the resource series reuse theirs). */
const labelStrings = new WeakMap<object, string>();
function labelList(labels: Record<string, string | number>): string {
  let s = labelStrings.get(labels);
  if (s === undefined) {
    s = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',');
    labelStrings.set(labels, s);
  }
  return s;
}
const labelString = (labels: Record<string, string | number>) => {
  const list = labelList(labels);
  return list ? `{${list}}` : '';
};

function valueString(v: number): string {
  if (Number.isNaN(v)) return 'Nan'; // sic: prom-client's spelling, which Prometheus accepts
  if (!Number.isFinite(v)) return v < 0 ? '-Inf' : '+Inf';
  return `${v}`;
}

/** What a prom-client Histogram holds: per label set, the count of each bucket (by upper bound), sum and count. */
interface HistogramMetric {
  name: string;
  help: string;
  type: 'histogram';
  upperBounds: number[];
  hashMap: Record<string, { labels: Record<string, string | number>; bucketValues: Record<number, number>; sum: number; count: number; bucketExemplars?: unknown }>;
}

/** Whether renderSimple can write this metric: a gauge or counter of prom-client. */
export function isSimple(metric: object): metric is SimpleMetric {
  const m = metric as Partial<SimpleMetric>;
  return (m.type === 'gauge' || m.type === 'counter') && typeof m.hashMap === 'object';
}

/** Whether renderHistogram can write this metric: a prom-client histogram without exemplars. */
export function isHistogram(metric: object): metric is HistogramMetric {
  const m = metric as Partial<HistogramMetric> & { enableExemplars?: boolean };
  return m.type === 'histogram' && typeof m.hashMap === 'object' && Array.isArray(m.upperBounds) && !m.enableExemplars;
}

/** The exposition of one histogram (the same in both formats): cumulative buckets, +Inf, sum and count per label set. */
export function renderHistogram(metric: HistogramMetric): string {
  const name = escapeText(metric.name);
  const lines = [`# HELP ${name} ${escapeText(metric.help)}`, `# TYPE ${name} histogram`];
  for (const key in metric.hashMap) {
    const { labels, bucketValues, sum, count } = metric.hashMap[key];
    const list = labelList(labels ?? {});
    const rest = list ? `,${list}` : '';
    let acc = 0;
    for (const bound of metric.upperBounds) {
      acc += bucketValues[bound];
      lines.push(`${metric.name}_bucket{le="${bound}"${rest}} ${valueString(acc)}`);
    }
    lines.push(`${metric.name}_bucket{le="+Inf"${rest}} ${valueString(count)}`);
    lines.push(`${metric.name}_sum${list ? `{${list}}` : ''} ${valueString(sum)}`);
    lines.push(`${metric.name}_count${list ? `{${list}}` : ''} ${valueString(count)}`);
  }
  return lines.join('\n');
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
