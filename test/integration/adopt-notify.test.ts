// Adoption of health-checked services: the successor binds a notify service's NOTIFY_SOCKET again (STATUS=, WATCHDOG=1 reach it), a watchdog or an exec check that fails after it replaces the instance.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { alive, killBackground, requireRoot, SLOWDOWN, waitFor } from './helpers';
import { removeRoots, runAgain, RunningSupervisor, startRun, stateOf, stopRun } from './supervisor-helpers';

/**
 * READY=1, then every 200 ms WATCHDOG=1 with STATUS=pings N, N also written to argv[1]; a send nobody receives
 * (no supervisor) is dropped. SIGUSR1 makes it go quiet, as a stuck main loop would.
 */
const DOG_PY = `
import os, signal, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
quiet = []
signal.signal(signal.SIGUSR1, lambda *_: quiet.append(1))
def say(m):
    try:
        s.sendto(m, os.environ["NOTIFY_SOCKET"])
    except OSError:
        pass
say(b"READY=1")
n = 0
while True:
    if not quiet:
        n += 1
        say(b"WATCHDOG=1\\nSTATUS=pings %d" % n)
        with open(sys.argv[1] + ".tmp", "w") as f:
            f.write(str(n))
        os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    time.sleep(0.2)
`;

/** The N of the service's last STATUS=pings N as `status` shows it, or -1. */
const statusPings = (run: RunningSupervisor) => Number(/^pings (\d+)$/.exec(stateOf(run, 'dog')?.statusText ?? '')?.[1] ?? -1);

describe('adoption of health-checked services: notify, watchdog, exec (root, real kernel)', function () {
  this.timeout(120_000 * SLOWDOWN);
  before(requireRoot);
  afterEach(killBackground);
  after(removeRoots);

  it('same pid, STATUS= and WATCHDOG=1 on the rebound socket (after a SIGKILL and after an upgrade), then a watchdog that stops pinging is replaced as unhealthy', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adopt-notify-'));
    fs.chmodSync(dir, 0o777);
    const countFile = path.join(dir, 'pings');
    const count = () => Number(fs.existsSync(countFile) ? fs.readFileSync(countFile, 'utf8') : -1);
    const watchdog = 1000 * SLOWDOWN;
    const dog = { command: ['python3', '-c', DOG_PY, countFile], ready: { notify: true }, health: { watchdog: `${watchdog}ms` }, restart: { delay: '100ms' } };
    let second: RunningSupervisor | null = null;
    try {
      const first = await startRun({ dog }, { adoptTimeout: `${20 * SLOWDOWN}s` });
      const socket = path.join(path.dirname(first.socket), 'notify', 'dog.sock');
      const before = await waitFor(`dog running with its pings in status (${first.output()})`, () => (statusPings(first) > 0 ? stateOf(first, 'dog') : null), 30_000 * SLOWDOWN);
      first.child.kill('SIGKILL');
      await first.exited;
      // Orphaned for longer than the watchdog's interval: a clock carried over from the dead supervisor would fire at once.
      const atKill = count();
      const orphanedPings = Math.ceil((1.5 * watchdog) / 200);
      await waitFor('the service pinging on with no supervisor', () => count() >= atKill + orphanedPings, 30_000 * SLOWDOWN);
      second = await runAgain(first);
      const out = second;
      await waitFor(`the adoption line (output so far: ${out.output()})`, () => /dog: adopted dog/.test(out.output()), 20_000 * SLOWDOWN);
      const adopted = stateOf(second, 'dog');
      assert.deepEqual([adopted.state, adopted.pid, adopted.initPid], ['running', before.pid, before.initPid], 'the same instance, adopted');
      assert.ok(adopted.adoptedAt, 'status says it was adopted');
      assert.ok(fs.statSync(socket).isSocket(), `the notify socket is bound again at ${socket}`);

      // STATUS= sent after the adoption shows; the pings reset the watchdog well past its interval.
      const atAdoption = count();
      await waitFor('a STATUS= sent after the adoption in status', () => statusPings(out) > atAdoption, 10_000 * SLOWDOWN);
      await waitFor('pings for twice the watchdog interval after the adoption', () => count() >= atAdoption + Math.ceil((2 * watchdog) / 200), 30_000 * SLOWDOWN);
      const served = stateOf(second, 'dog');
      assert.deepEqual([served.state, served.pid], ['running', before.pid], `kept while it pings (${out.output()})`);
      assert.doesNotMatch(out.output(), /dog: unhealthy/);

      // An upgrade in place adopts it again and binds the socket once more: its pings go on reaching the supervisor.
      const up = out.ctl(['upgrade']);
      assert.equal(up.code, 0, up.stderr);
      await waitFor(`adopted again by the upgraded program (${out.output()})`, () => out.output().match(/dog: adopted dog/g)?.length === 2, 30_000 * SLOWDOWN);
      const atUpgrade = count();
      await waitFor('a STATUS= sent after the upgrade in status', () => {
        try {
          return statusPings(out) > atUpgrade;
        } catch {
          return false; // between the exec and the new control socket
        }
      }, 10_000 * SLOWDOWN);
      assert.equal(stateOf(out, 'dog').pid, before.pid);

      // It goes quiet: replaced, with the watchdog's exit reason (SIGABRT), as an instance this supervisor started would be.
      process.kill(before.pid, 'SIGUSR1');
      const replaced = await waitFor('the replacement', () => {
        const s = stateOf(out, 'dog');
        return s?.state === 'running' && s.pid !== before.pid ? s : null;
      }, 30_000 * SLOWDOWN);
      assert.deepEqual([replaced.lastExit?.reason, replaced.lastExit?.signal], ['unhealthy', 'SIGABRT'], JSON.stringify(replaced.lastExit));
      assert.equal(replaced.restarts, before.restarts + 1, 'restarts go on from the adopted count');
      assert.ok(!alive(before.initPid), 'the adopted instance is gone');
      second.child.kill('SIGTERM');
      assert.equal(await second.exited, 0);
      assert.ok(!fs.existsSync(socket), 'the notify socket is removed at the stop');
      await stopRun(second);
    } finally {
      if (second && second.child.exitCode === null) await stopRun(second);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a NOTIFY_SOCKET carried in under a tmpfs is not adopted (a new bind would not reach it): upgrade refused, a successor says so and starts it anew', async () => {
    // The tmpfs over /tmp hides the socket's directory: the service holds a mount of the dead supervisor's socket.
    const dog = { command: ['python3', '-c', DOG_PY, '/tmp/pings'], ready: { notify: true }, health: { watchdog: `${1000 * SLOWDOWN}ms` }, mounts: [{ type: 'tmpfs', target: '/tmp' }] };
    const first = await startRun({ dog }, { adoptTimeout: `${20 * SLOWDOWN}s` });
    const before = await waitFor(`dog running (${first.output()})`, () => (statusPings(first) > 0 ? stateOf(first, 'dog') : null), 30_000 * SLOWDOWN);
    const up = first.ctl(['upgrade']);
    assert.equal(up.code, 1, 'an upgrade is refused: it would restart dog');
    assert.match(up.stderr, /upgrade would restart dog \(its NOTIFY_SOCKET \S+\/notify\/dog\.sock is carried into its mount namespace\), which cannot be adopted; nothing was changed/);
    first.child.kill('SIGKILL');
    await first.exited;
    const second = await runAgain(first);
    try {
      await waitFor(`the refusal (output so far: ${second.output()})`, () => /instance dog .*NOTIFY_SOCKET .* is carried into its mount namespace/.test(second.output()), 20_000 * SLOWDOWN);
      const anew = await waitFor('dog running anew, pinging the new socket', () => {
        const s = stateOf(second, 'dog');
        return s?.state === 'running' && s.pid !== before.pid && statusPings(second) > 0 ? s : null;
      }, 30_000 * SLOWDOWN);
      assert.equal(anew.starts, 1, 'counted afresh');
      assert.equal(anew.adoptedAt, undefined);
      await waitFor('the old instance gone (its cgroup was a leftover)', () => !alive(before.initPid));
    } finally {
      assert.equal(await stopRun(second), 0);
    }
  });

  it('an exec health check resumes on the adopted instance: once it fails, the instance is replaced as unhealthy', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adopt-health-'));
    const ok = path.join(dir, 'ok');
    fs.writeFileSync(ok, '');
    const probed = path.join(dir, 'probed');
    // Each check leaves a mark, so the test sees checks run after the adoption.
    const check = ['sh', '-c', `touch ${probed}; test -e ${ok}`];
    const idle = { command: ['sleep', '600'], health: { exec: check, interval: '200ms', timeout: `${2 * SLOWDOWN}s`, failures: 2 }, restart: { delay: '100ms' } };
    let second: RunningSupervisor | null = null;
    try {
      const first = await startRun({ idle }, { adoptTimeout: `${20 * SLOWDOWN}s` });
      const before = await waitFor(`idle running (${first.output()})`, () => (stateOf(first, 'idle')?.state === 'running' ? stateOf(first, 'idle') : null), 30_000 * SLOWDOWN);
      first.child.kill('SIGKILL');
      await first.exited;
      second = await runAgain(first);
      const out = second;
      await waitFor(`the adoption line (${out.output()})`, () => /idle: adopted idle/.test(out.output()), 20_000 * SLOWDOWN);
      fs.rmSync(probed, { force: true });
      await waitFor('a health check of the adopted instance', () => fs.existsSync(probed), 10_000 * SLOWDOWN);
      assert.deepEqual([stateOf(out, 'idle').state, stateOf(out, 'idle').pid], ['running', before.pid], 'passing checks leave it running');
      fs.rmSync(ok);
      const replaced = await waitFor('the replacement', () => {
        const s = stateOf(out, 'idle');
        return s?.state === 'running' && s.pid !== before.pid ? s : null;
      }, 30_000 * SLOWDOWN);
      assert.equal(replaced.lastExit?.reason, 'unhealthy', JSON.stringify(replaced.lastExit));
      // The supervisor's line may reach its stdout after status already shows the replacement.
      await waitFor(`the unhealthy line (${out.output()})`, () => /idle: unhealthy: 2 health checks failed in a row/.test(out.output()), 10_000 * SLOWDOWN);
      assert.ok(!alive(before.initPid), 'the adopted instance is gone');
    } finally {
      if (second && second.child.exitCode === null) assert.equal(await stopRun(second), 0);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
