// nsvisor-init's orphans as tini's and beyond: subreaper registration (-s, TINI_SUBREAPER), its warning, -w, zombie reaping, and nsvisor's drain with its switch (--drain 0 = tini).
import { strict as assert } from 'assert';

import { alive, childrenOf, commOf, endStarted, INIT, ppidOf, start, Started, waitFor } from './init-tini-helpers';

/** The command: starts ORPHAN in a subshell that exits at once (so ORPHAN's parent dies), then waits for its stdin. */
const MAIN = '(sh -c "$ORPHAN" &); read x; exit 0';
/** An orphan that says its pid, then sleeps. */
const SLEEPER = 'echo orphan $$; exec sleep 30';

/** Processes outside nsvisor-init's tree that a test made: ended by pid afterwards. */
const leftovers: number[] = [];

function startMain(args: string[], orphan: string, env: NodeJS.ProcessEnv = {}): Started {
  return start(INIT, [...args, '--', 'sh', '-c', MAIN], { ...process.env, TINI_SUBREAPER: undefined, TINI_VERBOSITY: undefined, ORPHAN: orphan, ...env });
}

/** Waits until the orphan has said its pid and its subshell is gone (so it has its new parent); returns it. */
async function orphanOf(s: Started): Promise<number> {
  const pid = await waitFor('the orphan', () => Number(/^orphan (\d+)$/m.exec(s.out())?.[1]));
  leftovers.push(pid);
  const main = await waitFor('the main process', () => childrenOf(s.pid).find((p) => p !== pid));
  await waitFor('the subshell to be gone', () => commOf(main) === 'sh' && childrenOf(main).length === 0);
  return pid;
}

/** Ends the main process (EOF on its stdin) and returns how nsvisor-init exited. */
async function endMain(s: Started) {
  s.child.stdin!.end();
  return s.exited;
}

describe('nsvisor-init: orphans, reaping and the drain', () => {
  afterEach(() => endStarted(leftovers.splice(0)));

  for (const [how, args, env] of [
    ['-s', ['-s'], {}],
    ['TINI_SUBREAPER (set, even empty)', [], { TINI_SUBREAPER: '' }],
  ] as const) {
    it(`${how}: registers as a child subreaper when not PID 1, so orphans come to it (with --drain 0, as tini)`, async () => {
      const s = startMain(['--drain', '0', ...args], SLEEPER, env);
      const orphan = await orphanOf(s);
      assert.equal(ppidOf(orphan), s.pid, 'the orphan is nsvisor-init\'s child now');
      assert.equal(s.err(), '', 'no warning');
      assert.equal((await endMain(s)).code, 0);
    });
  }

  it('with --drain 0 and neither: not a subreaper, as tini; orphans go elsewhere and it warns (unless TINI_VERBOSITY=0)', async () => {
    const s = startMain(['--drain', '0'], SLEEPER);
    const orphan = await orphanOf(s);
    assert.notEqual(ppidOf(orphan), s.pid);
    assert.match(s.err(), /^\[WARN  nsvisor-init \(\d+\)\] nsvisor-init is neither PID 1 nor a child subreaper, so orphans do not come to it and zombie reaping won't work: give it -s \(or set TINI_SUBREAPER\), or run it as PID 1\n$/);
    assert.equal((await endMain(s)).code, 0);
    assert.ok(alive(orphan), 'tini leaves the others running when the main process is done');
    const quiet = startMain(['--drain', '0'], SLEEPER, { TINI_VERBOSITY: '0' });
    await orphanOf(quiet);
    assert.equal((await endMain(quiet)).code, 0);
    assert.equal(quiet.err(), '');
  });

  it('draining (the default) makes it a subreaper too, without a warning', async () => {
    const s = startMain([], SLEEPER);
    assert.equal(ppidOf(await orphanOf(s)), s.pid);
    assert.equal(s.err(), '');
  });

  it('reaps every orphan, leaving no zombie; -w warns for each, without -w nothing is said', async () => {
    for (const warn of [true, false]) {
      const s = start(INIT, [...(warn ? ['-w'] : []), '--', 'sh', '-c', 'for i in $(seq 20); do (true &); done; echo started; read x; exit 0']);
      await waitFor('the orphans', () => s.out().includes('started'));
      const main = childrenOf(s.pid)[0];
      if (warn) await waitFor('20 warnings', () => (s.err().match(/^\[WARN  nsvisor-init \(\d+\)\] Reaped zombie process with pid=\d+$/gm) ?? []).length === 20);
      await waitFor('every orphan to be reaped', () => childrenOf(s.pid).length === 1);
      assert.deepEqual(childrenOf(s.pid), [main], 'only the main process is left');
      assert.equal((await endMain(s)).code, 0);
      if (!warn) assert.equal(s.err(), '');
    }
  });

  it('drains: once the command exits, what is left gets the stop signal (SIGTERM, or --stop-signal), and nsvisor-init waits for it', async () => {
    for (const [args, trap] of [
      [[], 'TERM'],
      [['--stop-signal', 'SIGUSR1'], 'USR1'],
    ] as const) {
      const s = startMain([...args], `trap "echo drained-by-${trap}; exit 0" ${trap}; echo orphan $$; while :; do sleep 0.05; done`);
      const orphan = await orphanOf(s);
      const end = await endMain(s);
      assert.equal(end.code, 0, "the command's code");
      assert.match(s.out(), new RegExp(`^drained-by-${trap}$`, 'm'));
      assert.ok(!alive(orphan));
    }
  });

  it('--drain MS: what ignores the stop signal is SIGKILLed once MS have passed, and so is what its death hands over', async () => {
    // The orphan ignores SIGTERM and has a child that ignores it too: that child comes to nsvisor-init only
    // when the SIGKILL has ended its parent, and is killed in turn.
    const inner = 'trap "" TERM; echo inner $$; while :; do sleep 0.05; done';
    const s = startMain(['--drain', '150'], 'trap "" TERM; sh -c "$INNER" & echo orphan $$; while :; do sleep 0.05; done', { INNER: inner });
    const orphan = await orphanOf(s);
    const child = await waitFor('the orphan\'s child', () => Number(/^inner (\d+)$/m.exec(s.out())?.[1]));
    leftovers.push(child);
    const t0 = Date.now();
    const end = await endMain(s);
    assert.ok(Date.now() - t0 >= 150, `nsvisor-init gave the drain its 150 ms (${Date.now() - t0} ms)`);
    assert.equal(end.code, 0);
    assert.ok(!alive(orphan) && !alive(child), 'both were killed');
  });

  it('--drain 0 is tini: nsvisor-init exits as soon as the command has, and leaves the rest running', async () => {
    const s = startMain(['--drain', '0', '-s'], `trap "echo got-term" TERM; echo orphan $$; while :; do sleep 0.05; done`);
    const orphan = await orphanOf(s);
    assert.equal((await endMain(s)).code, 0);
    assert.ok(alive(orphan), 'the orphan still runs');
    assert.ok(!s.out().includes('got-term'), 'and got no stop signal');
  });
});
