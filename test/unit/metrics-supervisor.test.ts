// The real Supervisor feeds the metrics (no services started, no root): its series exist, and go when a service is removed.
import { strict as assert } from 'assert';

import { validateConfig } from '../../src/config/schema';
import { SupervisorMetrics } from '../../src/metrics';
import { Supervisor } from '../../src/supervisor';
import { parseText } from './metrics-fakes';

describe('metrics: with the real Supervisor', () => {
  it('exports each configured service and drops the series of one removed', async () => {
    const config = validateConfig({
      supervisor: { metrics: 'off', control: '/tmp/nsvisor-unit/control.sock' },
      services: { web: { command: ['/bin/true'], restart: { policy: 'always' } }, db: { command: ['/bin/true'] } },
    });
    const sup = new Supervisor(config, { notifyDir: '/tmp/nsvisor-unit/notify', cgroups: null });
    const metrics = new SupervisorMetrics(sup, { stats: async () => [], defaultMetrics: false });
    let v = parseText((await metrics.render()).body);
    assert.equal(v.get('nsvisor_service_info{name="web",restart_policy="always",isolation="cgroup,ipc,mnt,pid,uts"}'), 1);
    assert.equal(v.get('nsvisor_service_state{name="db",state="stopped"}'), 1);
    let removed = '';
    sup.on('removed', (name) => (removed = name));
    await sup.remove('web');
    assert.equal(removed, 'web');
    assert.ok(!sup.services.has('web'));
    v = parseText((await metrics.render()).body);
    assert.deepEqual([...v.keys()].filter((k) => k.includes('name="web"')), []);
    assert.ok([...v.keys()].some((k) => k.includes('name="db"')));
    metrics.close();
  });

  it('refuses to remove a service another depends on', async () => {
    const config = validateConfig({
      supervisor: { metrics: 'off', control: '/tmp/nsvisor-unit/control.sock' },
      services: { db: { command: ['/bin/true'] }, web: { command: ['/bin/true'], dependsOn: ['db'] } },
    });
    const sup = new Supervisor(config, { notifyDir: '/tmp/nsvisor-unit/notify', cgroups: null });
    await assert.rejects(sup.remove('db'), /db: cannot remove, web depends on it/);
    assert.ok(sup.services.has('db'));
  });
});
