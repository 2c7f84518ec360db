// Event-loop delay gauges whose 10 ms sampling runs only while scrapes ask for them: a supervisor nobody scrapes wakes for nothing.
import { monitorEventLoopDelay, IntervalHistogram } from 'perf_hooks';
import { Gauge, Registry } from 'prom-client';

/** The sampling stops when no scrape came for this long (a few of Prometheus' usual intervals). */
export const SAMPLE_FOR_MS = 120_000;
const RESOLUTION_MS = 10;

type Figure = 'min' | 'max' | 'mean' | 'stddev' | 'p50' | 'p90' | 'p99';

const FIGURES: [Figure, string, (h: IntervalHistogram) => number][] = [
  ['min', 'Shortest event-loop delay sampled since the previous scrape.', (h) => h.min],
  ['max', 'Longest event-loop delay sampled since the previous scrape.', (h) => h.max],
  ['mean', 'Mean event-loop delay sampled since the previous scrape.', (h) => h.mean],
  ['stddev', 'Standard deviation of the event-loop delays sampled since the previous scrape.', (h) => h.stddev],
  ['p50', 'Median event-loop delay sampled since the previous scrape.', (h) => h.percentile(50)],
  ['p90', '90th percentile of the event-loop delays sampled since the previous scrape.', (h) => h.percentile(90)],
  ['p99', '99th percentile of the event-loop delays sampled since the previous scrape.', (h) => h.percentile(99)],
];

/**
 * Registers nodejs_eventloop_lag_seconds (the delay of one setImmediate at the scrape) and the sampled figures
 * nodejs_eventloop_lag_{min,max,mean,stddev,p50,p90,p99}_seconds. A scrape starts the sampling, the next reads and
 * resets it; SAMPLE_FOR_MS without a scrape stops it (one timer, pushed back by each scrape). Until a second scrape
 * the sampled figures are 0.
 */
export function registerLoopLag(registry: Registry, sampleForMs = SAMPLE_FOR_MS): { stop(): void; sampling(): boolean } {
  let histogram: IntervalHistogram | null = null;
  let idle: NodeJS.Timeout | null = null;
  const stop = () => {
    histogram?.disable();
    histogram = null;
    if (idle) clearTimeout(idle);
    idle = null;
  };
  // The delay gauge first: a scrape reads the metrics in the order registered, and its collect() sets the others.
  new Gauge({
    name: 'nodejs_eventloop_lag_seconds',
    help: 'How long a callback queued at the scrape waited for the event loop, in seconds.',
    registers: [registry],
    async collect() {
      sampled();
      const t0 = process.hrtime.bigint();
      await new Promise((r) => setImmediate(r));
      this.set(Number(process.hrtime.bigint() - t0) / 1e9);
    },
  });
  const gauges = FIGURES.map(([figure, help, read]) => ({
    read,
    gauge: new Gauge({ name: `nodejs_eventloop_lag_${figure}_seconds`, help, registers: [registry] }),
  }));
  const sampled = () => {
    if (!histogram) {
      histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
      histogram.enable();
      idle = setTimeout(stop, sampleForMs).unref();
      return;
    }
    idle!.refresh();
    if (histogram.count > 0) for (const { gauge, read } of gauges) gauge.set(read(histogram) / 1e9);
    histogram.reset();
  };
  return { stop, sampling: () => histogram !== null };
}
