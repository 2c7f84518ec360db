// Unit tests of the pure parts of supervision: backoff, restart policy, state transitions, exit reasons, sd_notify parsing.
import { strict as assert } from 'assert';

import { Backoff, shouldRestart } from '../../src/service/backoff';
import { classifyExit } from '../../src/launch/exit-reason';
import { parseNotify } from '../../src/service/notify';
import { assertTransition } from '../../src/service/states';

describe('backoff', () => {
  it('doubles from delay up to maxDelay while instances die young', () => {
    const b = new Backoff({ delay: 100, maxDelay: 1000, resetAfter: 10_000 });
    assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => b.next(50)), [100, 200, 400, 800, 1000, 1000]);
  });
  it('starts over after an instance ran for resetAfter', () => {
    const b = new Backoff({ delay: 100, maxDelay: 1000, resetAfter: 10_000 });
    b.next(0);
    b.next(0);
    assert.equal(b.next(10_000), 100);
    assert.equal(b.next(0), 200);
  });
  it('never exceeds maxDelay even when delay is larger', () => {
    assert.equal(new Backoff({ delay: 5000, maxDelay: 1000, resetAfter: 1 }).next(0), 1000);
  });
});

describe('restart policy', () => {
  it('always, on-failure and never', () => {
    assert.equal(shouldRestart('always', 'completed'), true);
    assert.equal(shouldRestart('on-failure', 'completed'), false);
    for (const r of ['error', 'signaled', 'oom_killed', 'spawn_failed']) assert.equal(shouldRestart('on-failure', r), true, r);
    assert.equal(shouldRestart('never', 'error'), false);
  });
});

describe('state transitions', () => {
  it('allows the lifecycle of SPEC 4.1', () => {
    const path = [['stopped', 'starting'], ['starting', 'running'], ['running', 'backoff'], ['backoff', 'starting'], ['starting', 'failed'], ['failed', 'starting'], ['running', 'stopping'], ['stopping', 'stopped']] as const;
    for (const [a, b] of path) assert.doesNotThrow(() => assertTransition('web', a, b));
  });
  it('throws on an illegal one, naming the service', () => {
    assert.throws(() => assertTransition('web', 'stopped', 'running'), /^Error: web: illegal state transition stopped -> running$/);
    assert.throws(() => assertTransition('web', 'stopping', 'starting'), /stopping -> starting/);
  });
});

describe('exit reasons', () => {
  const at = new Date(0);
  it('completed, error, signaled (128+N from nsvisor-init), oom_killed', () => {
    assert.deepEqual(classifyExit(0, null, false, at), { code: 0, signal: null, reason: 'completed', at });
    assert.deepEqual(classifyExit(3, null, false, at), { code: 3, signal: null, reason: 'error', at });
    assert.deepEqual(classifyExit(143, null, false, at), { code: 143, signal: 'SIGTERM', reason: 'signaled', at });
    assert.deepEqual(classifyExit(null, 'SIGKILL', false, at), { code: null, signal: 'SIGKILL', reason: 'signaled', at });
    assert.equal(classifyExit(137, null, true, at).reason, 'oom_killed');
    assert.equal(classifyExit(255, null, false, at).reason, 'error', '255 is no signal');
    // With nsvisor-init's report, a deliberate exit(130) is an error, and a signal is named whatever the code.
    assert.deepEqual(classifyExit(130, null, false, at, { code: 130, signal: null }), { code: 130, signal: null, reason: 'error', at });
    assert.deepEqual(classifyExit(130, null, false, at, { code: null, signal: 'SIGINT' }), { code: 130, signal: 'SIGINT', reason: 'signaled', at });
    assert.deepEqual(classifyExit(0, null, false, at, { code: 0, signal: null }).reason, 'completed');
    assert.equal(classifyExit(137, null, true, at, { code: null, signal: 'SIGKILL' }).reason, 'oom_killed');
  });
});

describe('sd_notify messages', () => {
  it('parses assignments, one per line', () => {
    const m = parseNotify('READY=1\nSTATUS=Serving 3 clients\nMAINPID=7\n');
    assert.equal(m.get('READY'), '1');
    assert.equal(m.get('STATUS'), 'Serving 3 clients');
    assert.equal(m.get('MAINPID'), '7');
    assert.equal(parseNotify('garbage').size, 0);
  });
});
