// Unit tests of reading the limit files less often: once per instance (then every 10 s), their figures kept in between.
import { strict as assert } from 'assert';

import type { StatsTarget } from '../../src/cgroup/driver';
import { SupervisorMetrics } from '../../src/metrics';
import { FakeSupervisor, parseText, stats } from './metrics-fakes';

describe('metrics: limit files', () => {
  it('reads them for a new instance, then leaves them out and keeps the figures read', async () => {
    const sup = new FakeSupervisor();
    sup.add('web', { resources: { memory: 1 << 20 } });
    const asked: StatsTarget[] = [];
    const source = async (targets: StatsTarget[]) => {
      asked.push(...targets);
      // The worker leaves the limits out (null) when told to skip them.
      return targets.map((t) => stats({ cpuUsageSeconds: 1, memoryLimitBytes: t.skipLimits ? null : 4096, tasksLimit: t.skipLimits ? null : 9 }));
    };
    const metrics = new SupervisorMetrics(sup, { stats: source, maxAgeMs: 0, defaultMetrics: false });
    const scrape = async () => parseText((await metrics.render()).body);
    sup.run('web', 'a');
    for (let i = 0; i < 3; i++) {
      const v = await scrape();
      assert.equal(v.get('nsvisor_service_spec_memory_limit_bytes{name="web"}'), 4096, `scrape ${i}`);
      assert.equal(v.get('nsvisor_service_spec_tasks_limit{name="web"}'), 9, `scrape ${i}`);
    }
    assert.deepEqual(asked.map((t) => Boolean(t.skipLimits)), [false, true, true]);
    sup.end('web', 'error');
    sup.run('web', 'b');
    await scrape();
    assert.equal(asked[3].skipLimits, undefined, 'a new instance has its limits read');
  });
});
