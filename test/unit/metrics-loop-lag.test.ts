// The event-loop lag gauges: no sampling until a scrape asks, a blocked loop seen by the next scrape, the sampling ended when scrapes stop.
import { strict as assert } from 'assert';
import { Registry } from 'prom-client';

import { registerLoopLag } from '../../src/metrics/loop-lag';

const value = async (r: Registry, name: string) => (await r.getSingleMetric(name)!.get()).values[0]?.value ?? 0;

describe('metrics: event-loop lag on demand', () => {
  it('starts sampling at the first scrape and reports a blocked loop at the next', async () => {
    const registry = new Registry();
    const lag = registerLoopLag(registry, 60_000);
    assert.equal(lag.sampling(), false, 'nothing samples before a scrape');
    await registry.metrics();
    assert.equal(lag.sampling(), true);
    assert.equal(await value(registry, 'nodejs_eventloop_lag_max_seconds'), 0, 'nothing sampled yet at the first scrape');
    await new Promise((r) => setTimeout(r, 30)); // a few samples at 10 ms
    const end = Date.now() + 60;
    while (Date.now() < end); // block the loop for 60 ms
    await new Promise((r) => setTimeout(r, 15)); // the sampler's next tick records the delay
    await registry.metrics();
    assert.ok((await value(registry, 'nodejs_eventloop_lag_max_seconds')) >= 0.05, 'the 60 ms block is seen');
    assert.ok((await value(registry, 'nodejs_eventloop_lag_p50_seconds')) > 0);
    lag.stop();
    assert.equal(lag.sampling(), false);
  });

  it('stops sampling by itself when no scrape comes', async () => {
    const registry = new Registry();
    const lag = registerLoopLag(registry, 20);
    await registry.metrics();
    assert.equal(lag.sampling(), true);
    const deadline = Date.now() + 5000;
    while (lag.sampling() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal(lag.sampling(), false, 'the idle timer fired');
  });
});
