// Unit tests of the Service state machine with fake instances and a hand-moved clock: backoff, stops, replaces, failures.
import { strict as assert } from 'assert';

import { LaunchFailure } from '../../src/launch/failure';
import { Service } from '../../src/service/service';
import type { ServiceState } from '../../src/service/states';
import { FakeRuntime, settingsOf, settle } from './service-fakes';

const ENOENT = 2;
const EAGAIN = 11;

function service(keys: Record<string, unknown> = {}, runtime = new FakeRuntime()) {
  const s = new Service('svc', settingsOf(keys), runtime);
  const states: ServiceState[] = [];
  const delays: number[] = [];
  const attempts: boolean[] = [];
  s.on('state', (_n, st) => states.push(st));
  s.on('backoff', (_n, d) => delays.push(d));
  s.on('attempt', (_n, automatic) => attempts.push(automatic));
  return { s, runtime, states, delays, attempts };
}

describe('service state machine (fakes)', () => {
  it('backs off doubling up to maxDelay while instances die young, and starts over after resetAfter of running', async () => {
    const { s, runtime, delays } = service({ restart: { delay: '100ms', maxDelay: '400ms', resetAfter: '1s' } });
    void s.start().catch(() => undefined);
    await settle();
    for (let i = 0; i < 5; i++) {
      runtime.last.becomeReady();
      await settle();
      runtime.last.exit(1);
      await settle();
      await runtime.clock.advance(delays[delays.length - 1]);
    }
    assert.deepEqual(delays, [100, 200, 400, 400, 400]);
    runtime.last.becomeReady();
    await settle();
    await runtime.clock.advance(1000); // a healthy run as long as resetAfter
    runtime.last.exit(1);
    await settle();
    assert.equal(delays[delays.length - 1], 100);
    assert.equal(s.state, 'backoff');
    await s.stop();
  });

  it('a stop that comes while an instance is being spawned stops that instance once it exists, and nothing restarts', async () => {
    let go!: () => void;
    const runtime = new FakeRuntime().then({ kind: 'wait', gate: new Promise<void>((r) => (go = r)) });
    const { s, states } = service({}, runtime);
    void s.start().catch(() => undefined);
    await settle();
    const stopped = s.stop();
    go();
    await stopped;
    assert.equal(runtime.instances.length, 1);
    assert.equal(runtime.last.stopCalls, 1);
    assert.equal(s.state, 'stopped');
    assert.deepEqual(states, ['starting', 'stopping', 'stopped']);
    await runtime.clock.advance(60_000);
    assert.equal(runtime.instances.length, 1, 'no restart after a stop');
  });

  it('a start that can never work is failed at once; one that may work later stays in backoff and retries', async () => {
    const never = service({}, new FakeRuntime().then({ kind: 'fail', failure: LaunchFailure.ofSyscall('mount', '/data', ENOENT) }));
    await assert.rejects(never.s.start(), /svc: failed: mount\(\/data\): No such file or directory/);
    assert.equal(never.s.state, 'failed');
    assert.equal(never.runtime.clock.pending(), 0, 'no retry is scheduled');
    assert.equal(never.s.lastExit?.reason, 'spawn_failed');

    const later = service({}, new FakeRuntime().then({ kind: 'fail', failure: LaunchFailure.ofSyscall('clone3', null, EAGAIN) }));
    const running = later.s.start();
    await settle();
    assert.equal(later.s.state, 'backoff');
    assert.match(later.s.failure ?? '', /clone3: Resource temporarily unavailable/);
    await later.runtime.clock.advance(100);
    later.runtime.last.becomeReady();
    await running;
    assert.equal(later.s.state, 'running');
    assert.equal(later.s.failure, null, 'a good start clears the failure');
    await later.s.stop();
  });

  it('counts automatic restarts only: a crash is one; stop then start and a refused zero-downtime restart are none', async () => {
    const { s, runtime, attempts } = service({ listen: ['tcp://127.0.0.1:1'], ready: { notify: true } });
    const first = s.start();
    await settle();
    runtime.last.becomeReady();
    await first;
    runtime.last.exit(1); // a crash: the policy restarts it
    await settle();
    await runtime.clock.advance(100);
    runtime.last.becomeReady();
    await s.whenRunning();
    assert.deepEqual([s.starts, s.restarts], [2, 1]);
    const refused = s.restart();
    await settle();
    runtime.last.failReadiness('not ready within 30000 ms');
    await assert.rejects(refused, /the new instance was not ready: not ready within 30000 ms; pid \d+ keeps serving/);
    await s.stop();
    const again = s.start();
    await settle();
    runtime.last.becomeReady();
    await again;
    assert.deepEqual([s.starts, s.restarts], [4, 1]);
    assert.deepEqual(attempts, [false, true, false, false]);
    await s.stop();
  });

  it('a zero-downtime restart: the old instance stops only once the new one is ready', async () => {
    const { s, runtime } = service({ listen: ['tcp://127.0.0.1:1'], ready: { notify: true } });
    const first = s.start();
    await settle();
    runtime.last.becomeReady();
    await first;
    const old = runtime.last;
    const restarting = s.restart();
    await settle();
    const next = runtime.last;
    assert.notEqual(next, old);
    assert.equal(old.stopCalls, 0, 'the old instance serves while the new one gets ready');
    next.becomeReady();
    assert.equal(await restarting, 'zero-downtime');
    assert.equal(old.stopCalls, 1);
    assert.equal(s.slots[0].current, next);
    assert.equal(s.pid, next.mainPid);
    assert.equal(next.opts.instanceName, 'svc.r2', 'beside another instance, the new one has a cgroup of its own');
    await s.stop();
    assert.equal(runtime.listens[0].closed, true, 'stop closes the held sockets');
  });

  it('the new instance dying before it is ready: the restart fails and the old one keeps serving', async () => {
    const { s, runtime } = service({ listen: ['tcp://127.0.0.1:1'], ready: { notify: true } });
    const first = s.start();
    await settle();
    runtime.last.becomeReady();
    await first;
    const old = runtime.last;
    const restarting = s.restart();
    await settle();
    runtime.last.exit(1);
    await assert.rejects(restarting, new RegExp(`the new instance was not ready: ended before it was ready; pid ${old.mainPid} keeps serving`));
    assert.equal(s.slots[0].current, old);
    assert.equal(s.state, 'running');
    assert.equal(runtime.listens[0].closed, false, 'the held sockets stay');
    await s.stop();
  });

  it('the old instance dying during a restart interrupts it; the usual retry leaves exactly one instance', async () => {
    const { s, runtime } = service({ listen: ['tcp://127.0.0.1:1'], ready: { notify: true } });
    const first = s.start();
    await settle();
    runtime.last.becomeReady();
    await first;
    const old = runtime.last;
    const restarting = s.restart();
    await settle();
    const candidate = runtime.last;
    old.exit(1);
    await assert.rejects(restarting, /the new instance was interrupted$/);
    assert.ok(candidate.done, 'the candidate is not promoted');
    assert.equal(s.state, 'backoff');
    await runtime.clock.advance(100);
    runtime.last.becomeReady();
    await s.whenRunning();
    assert.equal(runtime.instances.filter((i) => !i.done).length, 1);
    await s.stop();
  });

  it('not ready within the timeout: the instance is killed and the attempt is retried', async () => {
    const { s, runtime, states } = service({ ready: { notify: true } });
    void s.start().catch(() => undefined);
    await settle();
    runtime.last.failReadiness('not ready within 30000 ms (waiting for READY=1 on NOTIFY_SOCKET)');
    await settle();
    assert.deepEqual(runtime.instances[0].signals, ['SIGKILL']);
    assert.equal(s.state, 'backoff');
    assert.equal(s.failure, 'not ready: not ready within 30000 ms (waiting for READY=1 on NOTIFY_SOCKET)');
    assert.deepEqual(states, ['starting', 'backoff']);
    await s.stop();
    assert.equal(s.failure, null, 'stop leaves no stale note');
  });

  it('restart policies: never stops after an exit, on-failure after a clean one, always restarts', async () => {
    for (const [policy, code, next] of [['never', 1, 'stopped'], ['on-failure', 0, 'stopped'], ['on-failure', 1, 'backoff'], ['always', 0, 'backoff']] as const) {
      const { s, runtime } = service({ restart: { policy } });
      void s.start().catch(() => undefined);
      await settle();
      runtime.last.becomeReady();
      await s.whenRunning();
      runtime.last.exit(code);
      await settle();
      assert.equal(s.state, next, `${policy}, exit ${code}`);
      await s.stop();
    }
  });

  it('reconfigure: new limits go to every instance alive; one the kernel refuses puts them all back and keeps the old definition', async () => {
    const { s, runtime } = service({ listen: ['tcp://127.0.0.1:1'], ready: { notify: true }, resources: { memory: '64Mi' } });
    const first = s.start();
    await settle();
    runtime.last.becomeReady();
    await first;
    const bigger = settingsOf({ listen: ['tcp://127.0.0.1:1'], ready: { notify: true }, resources: { memory: '128Mi' } });
    await s.reconfigure(bigger);
    assert.equal(s.settings, bigger);
    assert.deepEqual(runtime.last.retuned.map(([a, b]) => [a.resources.memory, b.resources.memory]), [[64 * 2 ** 20, 128 * 2 ** 20]]);
    runtime.last.refuse = /"memory":1048576/;
    const tiny = settingsOf({ listen: ['tcp://127.0.0.1:1'], ready: { notify: true }, resources: { memory: '1Mi' } });
    await assert.rejects(s.reconfigure(tiny), /refused \{"memory":1048576\}/);
    assert.equal(s.settings, bigger, 'the old definition stays');
    assert.deepEqual(runtime.last.retuned.at(-1)!.map((c) => c.resources.memory), [2 ** 20, 128 * 2 ** 20], 'written back');
    await s.stop();
  });

  it('redefine without downtime: the new instance has the new definition; if it is not ready the old one serves with the old', async () => {
    const keys = { listen: ['tcp://127.0.0.1:1'], ready: { notify: true } };
    const { s, runtime } = service(keys);
    const first = s.start();
    await settle();
    runtime.last.becomeReady();
    await first;
    const old = s.settings;
    const broken = settingsOf({ ...keys, env: { MODE: 'broken' } });
    const failing = s.redefine(broken, { zeroDowntime: true, start: true });
    await settle();
    runtime.last.failReadiness('not ready within 30000 ms');
    await assert.rejects(failing, /was not ready/);
    assert.equal(s.settings, old);
    const fixed = settingsOf({ ...keys, env: { MODE: 'fixed' } });
    const working = s.redefine(fixed, { zeroDowntime: true, start: true });
    await settle();
    runtime.last.becomeReady();
    await working;
    assert.equal(s.settings, fixed);
    assert.equal(s.slots[0].current, runtime.last);
    await s.stop();
  });

  it('fail() marks a stopped service failed without trying it', async () => {
    const { s, runtime } = service();
    s.fail('command: /nope does not exist');
    assert.equal(s.state, 'failed');
    assert.equal(runtime.instances.length, 0);
    assert.equal(s.failure, 'command: /nope does not exist');
  });
});

