// Unit tests of health checks: the monitor's counting with a hand-moved clock, and what the Service does with an unhealthy instance.
import { strict as assert } from 'assert';

import type { HealthCheck } from '../../src/config/service';
import { HealthMonitor } from '../../src/service/health';
import { Service } from '../../src/service/service';
import { FakeClock, FakeRuntime, settingsOf, settle } from './service-fakes';

const probeCheck = (over: Partial<HealthCheck> = {}): HealthCheck => ({ type: 'tcp', port: 1, interval: 1000, timeout: 200, failures: 3, startPeriod: 0, ...over }) as HealthCheck;

function monitor(check: HealthCheck, answers: (boolean | 'hang')[]) {
  const clock = new FakeClock();
  const results: boolean[] = [];
  const unhealthy: string[] = [];
  const m = new HealthMonitor(check, clock, {
    probe: () => {
      const a = answers.shift() ?? true;
      return a === 'hang' ? new Promise(() => undefined) : Promise.resolve(a);
    },
    onResult: (ok) => results.push(ok),
    onUnhealthy: (why) => unhealthy.push(why),
  });
  return { m, clock, results, unhealthy };
}

describe('health monitor', () => {
  it('probes every interval; `failures` in a row make it unhealthy, a pass in between starts the count over', async () => {
    const { clock, results, unhealthy } = monitor(probeCheck(), [false, false, true, false, false, false, true]);
    for (let i = 0; i < 6; i++) await clock.advance(1000);
    assert.deepEqual(results, [false, false, true, false, false, false]);
    assert.deepEqual(unhealthy, ['3 health checks failed in a row']);
    assert.equal(clock.pending(), 0, 'no more probes once unhealthy');
  });

  it('failures within startPeriod do not count', async () => {
    const { clock, unhealthy } = monitor(probeCheck({ startPeriod: 2500 }), [false, false, false, false, false]);
    for (let i = 0; i < 4; i++) await clock.advance(1000);
    assert.deepEqual(unhealthy, [], 'the first two failures came within the start period');
    await clock.advance(1000);
    assert.deepEqual(unhealthy, ['3 health checks failed in a row']);
  });

  it('a probe that hangs counts as failed once the timeout has passed', async () => {
    const { clock, results, unhealthy } = monitor(probeCheck({ failures: 1 }), ['hang']);
    await clock.advance(1000);
    assert.deepEqual(results, []);
    await clock.advance(200);
    assert.deepEqual([results, unhealthy], [[false], ['1 health checks failed in a row']]);
  });

  it('a watchdog: each ping starts it over; one not reset in time makes it unhealthy', async () => {
    const { m, clock, results, unhealthy } = monitor({ type: 'watchdog', watchdog: 500, interval: 0, timeout: 0, failures: 1, startPeriod: 0 } as HealthCheck, []);
    for (let i = 0; i < 3; i++) {
      await clock.advance(400);
      m.ping();
    }
    assert.deepEqual(unhealthy, []);
    await clock.advance(500);
    assert.deepEqual(unhealthy, ['no WATCHDOG=1 within 500 ms']);
    assert.deepEqual(results, [true, true, true, false]);
  });
});

describe('service: an unhealthy instance (fakes)', () => {
  const health = { tcp: 8080, interval: '1s', failures: 2 };

  it('with listen sockets: replaced without downtime, the sick one ends as unhealthy, an automatic restart', async () => {
    const runtime = new FakeRuntime();
    const s = new Service('svc', settingsOf({ listen: ['tcp://127.0.0.1:1'], ready: { notify: true }, health }), runtime);
    const events: string[] = [];
    s.on('unhealthy', (_n, why) => events.push(why));
    const started = s.start();
    await settle();
    runtime.last.becomeReady();
    await started;
    const sick = runtime.last;
    sick.healthAnswers.push(false, false);
    await runtime.clock.advance(2000);
    assert.deepEqual(events, ['2 health checks failed in a row']);
    const next = runtime.last;
    assert.notEqual(next, sick);
    assert.equal(sick.stopCalls, 0, 'the sick one serves until the new one is ready');
    next.becomeReady();
    await settle();
    assert.equal(sick.stopCalls, 1);
    assert.equal(s.slots[0].current, next);
    assert.equal(s.lastExit?.reason, 'unhealthy');
    assert.deepEqual([s.starts, s.restarts], [2, 1]);
    assert.equal(next.probes, 0);
    await runtime.clock.advance(1000);
    assert.equal(next.probes, 1, 'the new instance is watched in turn');
    await s.stop();
  });

  it('without listen sockets: stopped, then the restart policy with its backoff; a watchdog gets SIGABRT first', async () => {
    // The probes fail at 1 s and 2 s; the watchdog is not reset by 1 s.
    for (const [check, signal, after] of [[health, 'SIGTERM', 2000], [{ watchdog: '1s' }, 'SIGABRT', 1000]] as const) {
      const runtime = new FakeRuntime();
      const s = new Service('svc', settingsOf({ health: check }), runtime);
      const started = s.start();
      await settle();
      runtime.last.becomeReady();
      await started;
      const sick = runtime.last;
      sick.healthAnswers.push(false, false);
      await runtime.clock.advance(after);
      assert.deepEqual(sick.signals, [signal]);
      assert.equal(s.lastExit?.reason, 'unhealthy');
      assert.equal(s.state, 'backoff');
      assert.match(s.failure ?? '', /^unhealthy: /);
      await s.stop();
    }
  });
});
