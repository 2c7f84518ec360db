// Unit tests of a service of several instances with fakes: names and NSVISOR_INSTANCE, one restarted on its own, a rolling restart, scale.
import { strict as assert } from 'assert';

import { Service, summedState } from '../../src/service/service';
import { FakeInstance, FakeRuntime, settingsOf, settle } from './service-fakes';

async function running(n: number, keys: Record<string, unknown> = {}) {
  const runtime = new FakeRuntime();
  const s = new Service('web', settingsOf({ instances: n, listen: ['tcp://127.0.0.1:1'], ready: { notify: true }, ...keys }), runtime);
  const started = s.start();
  await settle();
  for (const i of runtime.instances) i.becomeReady();
  await started;
  return { s, runtime };
}

const serving = (s: Service) => s.slots.map((slot) => slot.current as FakeInstance);

describe('service with instances (fakes)', () => {
  it('sums the states of its slots: running once all run, else what the busiest one does', () => {
    assert.equal(summedState(['running', 'running']), 'running');
    assert.equal(summedState(['running', 'starting']), 'starting');
    assert.equal(summedState(['running', 'backoff']), 'backoff');
    assert.equal(summedState(['stopped', 'stopped']), 'stopped');
  });

  it('starts N instances, each in a cgroup of its own (NAME, NAME.1, ...) with NSVISOR_INSTANCE, on the same held sockets', async () => {
    const { s, runtime } = await running(3);
    assert.equal(s.state, 'running');
    assert.deepEqual(runtime.instances.map((i) => [i.opts.instanceName, i.opts.env.NSVISOR_INSTANCE]), [['web', '0'], ['web.1', '1'], ['web.2', '2']]);
    assert.equal(runtime.listens.length, 1, 'one set of sockets, shared');
    assert.ok(runtime.instances.every((i) => i.opts.listen === runtime.instances[0].opts.listen));
    assert.equal(s.running, 3);
    await s.stop();
    assert.equal(runtime.listens[0].closed, true);
  });

  it('one instance that crashes is restarted on its own; the others are not touched', async () => {
    const { s, runtime } = await running(3, { listen: [] });
    const [a, b, c] = serving(s);
    b.exit(1);
    await settle();
    assert.equal(s.state, 'backoff');
    await runtime.clock.advance(100);
    runtime.last.becomeReady();
    await s.whenRunning();
    assert.deepEqual(serving(s).map((i) => i === a || i === c), [true, false, true]);
    assert.equal(serving(s)[1].opts.instanceName, 'web.1');
    assert.deepEqual([s.starts, s.restarts], [4, 1]);
    await s.stop();
  });

  it('a restart replaces them one at a time, each new one ready before its old one stops', async () => {
    const { s, runtime } = await running(3);
    const old = serving(s);
    const restarting = s.restart();
    for (let k = 0; k < 3; k++) {
      await settle();
      const next = runtime.last;
      assert.equal(next.opts.instanceName, `${k === 0 ? 'web' : `web.${k}`}.r2`, 'a replacement beside the old one');
      assert.deepEqual(old.map((o) => o.stopCalls), old.map((_, j) => (j < k ? 1 : 0)), `only the ones before ${k} have stopped`);
      next.becomeReady();
    }
    assert.equal(await restarting, 'zero-downtime');
    assert.deepEqual(old.map((o) => o.stopCalls), [1, 1, 1]);
    await s.stop();
  });

  it('scale up starts only the new instances, scale down stops only the highest ones', async () => {
    const { s, runtime } = await running(2);
    const [a, b] = serving(s);
    const up = s.scale(4);
    await settle();
    for (const i of runtime.instances.slice(2)) i.becomeReady();
    await up;
    assert.deepEqual(runtime.instances.slice(2).map((i) => i.opts.instanceName), ['web.2', 'web.3']);
    assert.deepEqual([a.stopCalls, b.stopCalls], [0, 0]);
    assert.equal(s.running, 4);
    const [, , c, d] = serving(s);
    await s.scale(1);
    assert.deepEqual([a, b, c, d].map((i) => i.stopCalls), [0, 1, 1, 1]);
    assert.deepEqual([s.slots.length, s.running, s.settings.instances], [1, 1, 1]);
    assert.equal(runtime.listens[0].closed, false, 'the service still serves on its sockets');
    await s.stop();
  });
});
