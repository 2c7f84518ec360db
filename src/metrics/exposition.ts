// Writes the registry out for a scrape: each metric in its own event loop turn, lifecycle text reused until it changes, ours by the fast writers.
import { OpenMetricsContentType, Registry } from 'prom-client';

import { isHistogram, isSimple, renderHistogram, renderSimple } from './render';

export interface Rendered {
  contentType: string;
  body: string;
}

/** Calls that change what a prom-client metric holds. */
const MUTATORS = ['set', 'inc', 'dec', 'observe', 'remove', 'reset', 'zero', 'setToCurrentTime'];

type Named = { name: string; type?: string };

export class Exposition {
  /** The text of each watched metric as last written, by format; dropped when the metric changes. */
  private readonly texts = new Map<object, { text?: string; om?: string }>();

  /**
   * `fromCollection`: the metrics a collection writes (rendered once it is done); `watched`: metrics changed only
   * through their own calls (the lifecycle's), whose text is kept until one of those calls.
   */
  constructor(private readonly registry: Registry, private readonly fromCollection: Set<object>, watched: object[]) {
    for (const metric of watched) {
      this.texts.set(metric, {});
      const m = metric as Record<string, unknown>;
      for (const k of MUTATORS) {
        const f = m[k];
        if (typeof f !== 'function') continue;
        m[k] = (...args: unknown[]) => {
          this.texts.set(metric, {});
          return (f as (...a: unknown[]) => unknown).apply(metric, args);
        };
      }
    }
  }

  /**
   * The exposition: the metrics that do not come from the collection are written while it runs, the others
   * once `collected` resolves (then `afterCollect` brings them up to date).
   */
  async render(openMetrics: boolean, collected: Promise<void>, afterCollect: () => void): Promise<Rendered> {
    const metrics = this.registry.getMetricsAsArray() as unknown as Named[];
    const names = metrics.map((m) => m.name);
    const om = new Registry<OpenMetricsContentType>();
    om.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    const reg: Pick<Registry, 'getSingleMetricAsString'> = openMetrics ? om : this.registry;
    if (openMetrics) for (const m of metrics) om.registerMetric(m as never);
    const parts: string[] = new Array(metrics.length);
    const one = async (i: number) => {
      await new Promise((r) => setImmediate(r));
      parts[i] = await this.text(metrics[i], names[i], reg, openMetrics);
    };
    try {
      for (let i = 0; i < metrics.length; i++) if (!this.fromCollection.has(metrics[i])) await one(i);
      await collected;
      afterCollect();
      for (let i = 0; i < metrics.length; i++) if (this.fromCollection.has(metrics[i])) await one(i);
    } finally {
      metrics.forEach((m, i) => (m.name = names[i]));
    }
    return openMetrics
      ? { contentType: om.contentType, body: `${parts.join('\n')}\n# EOF\n` }
      : { contentType: this.registry.contentType, body: `${parts.join('\n\n')}\n` };
  }

  private async text(metric: Named, name: string, reg: Pick<Registry, 'getSingleMetricAsString'>, openMetrics: boolean): Promise<string> {
    const cached = this.texts.get(metric);
    const kept = openMetrics ? cached?.om : cached?.text;
    if (kept !== undefined) return kept;
    let text: string;
    if (name.startsWith('nsvisor_') && isSimple(metric)) {
      text = renderSimple(metric, openMetrics);
    } else if (name.startsWith('nsvisor_') && isHistogram(metric)) {
      text = renderHistogram(metric); // the collection's own is written after the collection: nothing to collect
    } else {
      // OpenMetrics names a counter family without "_total" and its sample with it (prom-client adds it back).
      if (openMetrics && metric.type === 'counter') metric.name = name.replace(/_total$/, '');
      text = await reg.getSingleMetricAsString(name);
    }
    if (cached) cached[openMetrics ? 'om' : 'text'] = text;
    return text;
  }
}
