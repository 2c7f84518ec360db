// Unit tests of the fast writer and the kept lifecycle text: byte for byte what prom-client writes, and never stale.
import { strict as assert } from 'assert';
import { Counter, Gauge, Histogram, OpenMetricsContentType, Registry } from 'prom-client';

import { SupervisorMetrics } from '../../src/metrics';
import { isHistogram, renderHistogram, renderSimple } from '../../src/metrics/render';
import { fakeSource, FakeSupervisor } from './metrics-fakes';

describe('metrics: the exposition writer', () => {
  it('writes gauges and counters exactly as prom-client does, in both formats', async () => {
    const registry = new Registry();
    const g = new Gauge({ name: 'nsvisor_test_gauge', help: 'A "gauge" with a \\ and\na newline.', labelNames: ['name', 'state'], registers: [registry] });
    const c = new Counter({ name: 'nsvisor_test_total', help: 'A counter.', labelNames: ['name'], registers: [registry] });
    g.set({ name: 'we"b\\x\ny', state: 'running' }, 1.5);
    g.set({ name: 'nan', state: 'x' }, NaN);
    g.set({ name: 'inf', state: 'x' }, Infinity);
    g.set({ name: 'minf', state: 'x' }, -Infinity);
    g.set({ name: 'tiny', state: 'x' }, 1e-7);
    c.inc({ name: 'web' }, 3);
    c.inc({ name: 'worker' }, 0);
    for (const m of [g, c]) assert.equal(renderSimple(m as never, false), await registry.getSingleMetricAsString((m as unknown as { name: string }).name));
    const om = new Registry<OpenMetricsContentType>();
    om.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    om.registerMetric(c);
    (c as unknown as { name: string }).name = 'nsvisor_test';
    const want = await om.getSingleMetricAsString('nsvisor_test_total'); // registered under its name, written under the family's
    (c as unknown as { name: string }).name = 'nsvisor_test_total';
    assert.equal(renderSimple(c as never, true), want);
  });

  it('writes histograms exactly as prom-client does: labelled, unlabelled, observed or zeroed', async () => {
    const registry = new Registry();
    const h = new Histogram({ name: 'nsvisor_test_seconds', help: 'A histogram.', labelNames: ['name'], buckets: [0.01, 0.1, 1], registers: [registry] });
    const bare = new Histogram({ name: 'nsvisor_bare_seconds', help: 'No labels.', buckets: [0.5, 2.5], registers: [registry] });
    h.observe({ name: 'we"b' }, 0.05);
    h.observe({ name: 'we"b' }, 7);
    h.zero({ name: 'idle' });
    bare.observe(0.3);
    for (const m of [h, bare]) {
      assert.ok(isHistogram(m));
      assert.equal(renderHistogram(m as never), await registry.getSingleMetricAsString((m as unknown as { name: string }).name));
    }
  });

  it('keeps the lifecycle text between scrapes and writes it again after any change', async () => {
    const sup = new FakeSupervisor();
    sup.add('web');
    const metrics = new SupervisorMetrics(sup, { stats: fakeSource(new Map()), maxAgeMs: 0, defaultMetrics: false });
    /** The exposition less the collection's own histogram, which changes at every collection. */
    const lifecycleText = async () => (await metrics.render()).body.replace(/^nsvisor_collect_duration_seconds.*\n/gm, '');
    const first = await lifecycleText();
    assert.equal(await lifecycleText(), first);
    sup.run('web', 'a');
    const second = (await metrics.render()).body;
    assert.match(second, /^nsvisor_service_state\{name="web",state="running"\} 1$/m);
    assert.match(second, /^nsvisor_service_spawn_duration_seconds_count\{name="web"\} 1$/m, 'a histogram observed since');
    const om = (await metrics.render(true)).body;
    assert.match(om, /^nsvisor_service_starts_total\{name="web"\} 1$/m);
    assert.match(om, /^# TYPE nsvisor_service_starts counter$/m);
    sup.emit('stopped', 'web', 0.5, true, 'web');
    const third = (await metrics.render()).body;
    assert.match(third, /^nsvisor_service_shutdown_kills_total\{name="web"\} 1$/m);
    assert.match(third, /^nsvisor_service_shutdown_duration_seconds_count\{name="web"\} 1$/m);
    assert.match(third, /^# TYPE nsvisor_service_starts_total counter$/m, 'text names after OpenMetrics');
  });
});
