// Unit tests of a slot taking over an instance a dead supervisor left (fakes): running without a start, counters carried on, its end answered by the restart policy.
import { strict as assert } from 'assert';

import { noExits } from '../../src/launch/exit-reason';
import { Service } from '../../src/service/service';
import type { ServiceState } from '../../src/service/states';
import { FakeInstance, FakeRuntime, settingsOf, settle } from './service-fakes';

const lastExit = { code: 1, signal: null, reason: 'error' as const, at: new Date(0) };
const exits = { ...noExits(), error: 2, signaled: 1 };

function adopted(keys: Record<string, unknown> = {}) {
  const runtime = new FakeRuntime();
  const s = new Service('svc', settingsOf(keys), runtime);
  const states: ServiceState[] = [];
  const attempts: boolean[] = [];
  const taken: unknown[] = [];
  s.on('state', (_n, st) => states.push(st));
  s.on('attempt', (_n, automatic) => attempts.push(automatic));
  s.on('adopted', (_n, t) => taken.push(t));
  let inst!: FakeInstance;
  s.slots[0].adopt((opts) => (inst = new FakeInstance(500, runtime.clock, { ...opts, instanceName: 'svc', listen: null, env: {} })), { starts: 4, restarts: 3, reaped: 2, lastExit, exits });
  return { s, runtime, states, attempts, taken, inst };
}

describe('slot adoption (fakes)', () => {
  it('runs the instance it is given with the counters it had, starting nothing and waiting for no readiness', async () => {
    const { s, runtime, states, attempts, taken } = adopted();
    assert.equal(s.state, 'running');
    assert.deepEqual(states, ['starting', 'running']);
    assert.deepEqual([s.starts, s.restarts, s.reaped, s.lastExit, s.slots[0].exits], [4, 3, 2, lastExit, exits]);
    assert.equal(s.pid, 501, 'the main process of the adopted instance');
    assert.deepEqual(attempts, [], 'no start was made');
    assert.equal(runtime.instances.length, 0);
    assert.deepEqual(taken, [{ pid: 500, orphanedMs: 0, dropped: 0, starts: 4, restarts: 3, reaped: 2, exits }]);
    await s.start();
    assert.equal(runtime.instances.length, 0, 'a start of a running service changes nothing');
    await s.stop();
  });

  it('its end is answered by the restart policy as any instance\'s: a restart counted on top of the carried counters', async () => {
    const { s, runtime, inst } = adopted({ restart: { policy: 'on-failure', delay: '10ms' } });
    await s.start();
    inst.exit(2);
    await settle();
    assert.equal(s.state, 'backoff');
    assert.equal(s.lastExit?.reason, 'error');
    await runtime.clock.advance(10);
    assert.deepEqual([s.starts, s.restarts], [5, 4]);
    assert.deepEqual(s.slots[0].exits, { ...exits, error: 3 }, 'its exit counted on top of the carried ones');
    runtime.last.becomeReady();
    await settle();
    assert.equal(s.state, 'running');
    await s.stop();
  });

  it('counts exits by reason, and writes the serving instance\'s state anew when the instance it replaced ends', async () => {
    const runtime = new FakeRuntime();
    const s = new Service('svc', settingsOf({ listen: ['tcp://127.0.0.1:1'], ready: { notify: true }, restart: { policy: 'always', delay: '10ms' } }), runtime);
    const first = s.start();
    await settle();
    runtime.last.exit(1);
    await settle();
    await runtime.clock.advance(10);
    runtime.last.becomeReady();
    await first;
    assert.deepEqual(runtime.last.kept.map((c) => c.exits.error), [1], 'written once it is ready, with the exit before it');
    const restarting = s.restart();
    await settle();
    runtime.last.becomeReady();
    await restarting;
    // The old instance ends (exit 143, an error) after the new one's file was written: written again, that exit in it.
    assert.deepEqual(runtime.last.kept.map((c) => c.exits), [{ ...noExits(), error: 1 }, { ...noExits(), error: 2 }]);
    assert.deepEqual(s.slots[0].exits, { ...noExits(), error: 2 });
    await s.stop();
    assert.deepEqual(s.slots[0].exits, { ...noExits(), error: 3 }, 'the stop ended one more');
  });

  it('writes the state file again once a definition is taken in place (a successor compares the one it runs now)', async () => {
    const { s, inst } = adopted({ resources: { memory: '64M' } });
    await s.reconfigure(settingsOf({ resources: { memory: '128M' } }));
    assert.equal(inst.retuned.length, 1);
    assert.deepEqual(inst.kept.map((c) => c.starts), [4], 'written once, with the counters it had');
    await s.stop();
  });

  it('a slot that is not stopped takes nothing', () => {
    const { s, runtime } = adopted();
    assert.throws(() => s.slots[0].adopt((opts) => new FakeInstance(600, runtime.clock, { ...opts, instanceName: 'svc', listen: null, env: {} }), { starts: 0, restarts: 0, reaped: 0, lastExit: null, exits: noExits() }), /cannot adopt an instance while running/);
  });
});
