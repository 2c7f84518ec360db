// nsvisor-init's signals as tini's: forwarding to the command (-g / TINI_KILL_PROCESS_GROUP: to its group), -p SIGNAL on its parent's death, and the caller's ignored and blocked signals restored for the command (not under --supervised).
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';

import { alive, bit, childrenOf, endStarted, INIT, init, masksPrinted, PRINT_SIGNALS, start, statusField, waitFor } from './init-tini-helpers';

/** A shell that prints "ready" once its traps are set, then idles in short sleeps (so a trap runs soon). */
const idleAfter = (traps: string) => `${traps}; echo ready; while :; do sleep 0.05; done`;

describe('nsvisor-init: signals (tini compatible)', () => {
  afterEach(() => endStarted());

  it('forwards what it gets to the command: SIGUSR1 and SIGHUP trapped, SIGTERM ends it with 143', async () => {
    const s = start(INIT, ['--', 'sh', '-c', idleAfter('trap "echo usr1" USR1; trap "echo hup" HUP')]);
    await waitFor('the traps', () => s.out().includes('ready'));
    s.child.kill('SIGUSR1');
    await waitFor('SIGUSR1 to reach the command', () => s.out().includes('usr1'));
    s.child.kill('SIGHUP');
    await waitFor('SIGHUP to reach the command', () => s.out().includes('hup'));
    s.child.kill('SIGTERM');
    assert.deepEqual(await s.exited, { code: 143, signal: null });
  });

  // The command has a child that reports SIGUSR1, then ignores SIGUSR1 itself (in that order: a shell cannot trap
  // what it was started ignoring); SIGTERM ends the command and, as the drain's signal, its orphan. Only when the
  // signal goes to the group does the child see SIGUSR1.
  const GROUP = 'sh -c \'trap "echo child-usr1; exit 0" USR1; echo child-ready; while :; do sleep 0.05; done\' & trap "" USR1; echo ready; wait';
  const bothReady = (s: { out: () => string }) => s.out().includes('child-ready') && /^ready$/m.test(s.out());
  for (const [how, args, env] of [
    ['-g', ['-g'], {}],
    ['TINI_KILL_PROCESS_GROUP=1', [], { TINI_KILL_PROCESS_GROUP: '1' }],
  ] as const) {
    it(`${how}: a signal reaches the command's whole process group`, async () => {
      const s = start(INIT, [...args, '--drain', '1000', '--', 'sh', '-c', GROUP], { ...process.env, ...env });
      await waitFor('the command and its group member', () => bothReady(s));
      s.child.kill('SIGUSR1');
      await waitFor('the group member to get SIGUSR1', () => s.out().includes('child-usr1'));
      assert.equal((await s.exited).code, 0, "the command's wait returns the child's exit 0");
    });
  }

  it('without -g only the command gets it', async () => {
    const s = start(INIT, ['--drain', '1000', '--', 'sh', '-c', GROUP], { ...process.env, TINI_KILL_PROCESS_GROUP: undefined });
    await waitFor('the command and its group member', () => bothReady(s));
    s.child.kill('SIGUSR1'); // ignored by the command; signals to one process arrive in order, so before the TERM
    s.child.kill('SIGTERM');
    assert.equal((await s.exited).code, 143);
    assert.ok(!s.out().includes('child-usr1'), s.out());
  });

  it('-p SIGUSR1: when its parent dies nsvisor-init gets SIGUSR1, which it forwards to the command', async () => {
    const command = idleAfter('trap "echo usr1; exit 0" USR1');
    const parent = start('sh', ['-c', `"$INIT" -p SIGUSR1 -- sh -c '${command}' & wait`], { ...process.env, INIT });
    await waitFor('the command', () => parent.out().includes('ready'));
    const initPid = childrenOf(parent.pid)[0];
    assert.equal(statusField(initPid, 'Name'), 'nsvisor-init');
    parent.child.kill('SIGKILL');
    await waitFor('the command to get SIGUSR1 through nsvisor-init', () => parent.out().includes('usr1'));
    await waitFor('nsvisor-init to exit with the command', () => !alive(initPid));
  });

  it("restores the caller's ignored signals for the command: nohup's SIGHUP, a trapped-off SIGPIPE and SIGTTOU", () => {
    const plain = masksPrinted(init(['--', ...PRINT_SIGNALS]).stdout);
    assert.equal(plain.ign & (bit('SIGHUP') | bit('SIGPIPE') | bit('SIGTTOU') | bit('SIGTTIN')), 0n, 'nothing ignored when the caller ignored nothing');
    const nohup = masksPrinted(spawnSync('nohup', [INIT, '--', ...PRINT_SIGNALS], { encoding: 'utf8' }).stdout);
    assert.equal(nohup.ign & bit('SIGHUP'), bit('SIGHUP'), 'nohup nsvisor-init -- CMD: CMD ignores SIGHUP');
    const trapped = spawnSync('sh', ['-c', 'trap "" PIPE TTOU; exec "$INIT" -- "$@"', 'sh', ...PRINT_SIGNALS], { encoding: 'utf8', env: { ...process.env, INIT } });
    const t = masksPrinted(trapped.stdout);
    assert.equal(t.ign & (bit('SIGPIPE') | bit('SIGTTOU')), bit('SIGPIPE') | bit('SIGTTOU'), 'SIGPIPE and SIGTTOU stay ignored');
    assert.equal(t.ign & bit('SIGTTIN'), 0n, 'SIGTTIN, which nsvisor-init ignores for itself, is back at its default');
    assert.equal(t.blk, 0n);
  });

  it("restores the caller's blocked signals for the command (a mask set by perl before its exec)", () => {
    const script = 'use POSIX; sigprocmask(SIG_BLOCK, POSIX::SigSet->new(SIGUSR2, SIGTERM, SIGTTIN)) or die "sigprocmask: $!"; exec @ARGV or die "exec: $!"';
    const r = spawnSync('perl', ['-e', script, INIT, '--', ...PRINT_SIGNALS], { encoding: 'utf8' });
    const { blk } = masksPrinted(r.stdout);
    assert.equal(blk, bit('SIGUSR2') | bit('SIGTERM') | bit('SIGTTIN'), `SigBlk of the command: ${blk.toString(16)}`);
  });

  it('--supervised: the command starts from default dispositions and an empty mask, whatever the caller had', () => {
    const r = spawnSync('nohup', [INIT, '--supervised', '--', ...PRINT_SIGNALS], { encoding: 'utf8' });
    assert.deepEqual(masksPrinted(r.stdout), { ign: 0n, blk: 0n });
  });
});
