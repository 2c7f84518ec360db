// nsvisor-init as PID 1 under `sandbox`: orphans reaped, signals forwarded, exit codes, drain, death of the supervisor.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { sandbox } from '../../src';
import { alive, childrenOf, cli, cliBackground, killBackground, mainPid, nsLink, processesWhere, processState, requireRoot, waitFor, withSandbox } from './helpers';

/** Host pids of the processes in pid namespace `ns` (a /proc/PID/ns/pid link). */
function pidsInNamespace(ns: string): number[] {
  return processesWhere((pid) => nsLink(pid, 'pid') === ns);
}

describe('sandbox: nsvisor-init (root, real kernel)', function () {
  before(requireRoot);
  afterEach(killBackground);

  it('reaps 200 orphans: none is left a zombie', async () => {
    const script = 'for i in $(seq 200); do (sleep 0.3 &); done; exec sleep 3600';
    await withSandbox({ command: ['sh', '-c', script] }, async (proc) => {
      const main = await mainPid(proc.pid);
      const ns = nsLink(main, 'pid');
      // Each (sleep &) subshell exits at once, so every sleep is an orphan whose parent becomes PID 1.
      await waitFor('orphans to be reparented to init', () => childrenOf(proc.pid).length > 1, 20_000);
      await waitFor('every orphan to be reaped', () => pidsInNamespace(ns).length === 2, 30_000);
      const zombies = pidsInNamespace(ns).filter((p) => processState(p) === 'Z');
      assert.deepEqual(zombies, []);
      assert.deepEqual(childrenOf(proc.pid), [main]);
    });
  });

  it('forwards SIGTERM from the supervisor to a command that traps it', async () => {
    const child = cliBackground(['sandbox', '--', 'sh', '-c', 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.05; done']);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    await waitFor('the command to trap', () => out.includes('ready'));
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    assert.equal(code, 7);
    assert.match(out, /got-term/);
  });

  it('forwards other signals too (SIGUSR1, SIGHUP)', async () => {
    const r = await withSandbox(
      { command: ['sh', '-c', 'trap "echo usr1" USR1; trap "echo hup; exit 5" HUP; while :; do sleep 0.05; done'] },
      async (proc) => {
        const main = await mainPid(proc.pid);
        const caught = () => BigInt('0x' + /^SigCgt:\s+(\S+)/m.exec(fs.readFileSync(`/proc/${main}/status`, 'utf8'))![1]);
        const bit = (sig: number) => 1n << BigInt(sig - 1);
        await waitFor('the traps', () => (caught() & (bit(os.constants.signals.SIGUSR1) | bit(os.constants.signals.SIGHUP))) !== 0n);
        proc.kill('SIGUSR1');
        proc.kill('SIGHUP');
        await waitFor('the command to exit', () => !alive(main));
      },
    );
    assert.equal(r.code, 5);
  });

  it('exit codes: 0, 3, 143 (SIGTERM), 127 not found, 126 not executable, 125 nsvisor failed', () => {
    const code = (args: string[]) => cli(['sandbox', ...args]).code;
    assert.equal(code(['--', 'true']), 0);
    assert.equal(code(['--', 'sh', '-c', 'exit 3']), 3);
    assert.equal(code(['--', 'sh', '-c', 'kill -TERM $$']), 143);
    assert.equal(code(['--', 'no-such-command-here']), 127);
    assert.equal(code(['--', '/etc/passwd']), 126);
    const failed = cli(['sandbox', '--cwd', '/no/such/dir', '--', 'true']);
    assert.equal(failed.code, 125);
    assert.equal(failed.stderr.trim(), 'nsvisor: chdir(/no/such/dir): No such file or directory');
  });

  it('library: sandbox() resolves with code, signal, pid and reason', async () => {
    const ok = await sandbox({ command: ['/bin/true'], isolate: ['pid', 'mount', 'uts', 'ipc', 'cgroup'] });
    assert.equal(ok.code, 0);
    assert.equal(ok.signal, null);
    assert.equal(ok.reason, 'completed');
    assert.ok(ok.pid > 1);
    const err = await sandbox({ command: ['sh', '-c', 'exit 4'] });
    assert.deepEqual([err.code, err.reason], [4, 'error']);
    const missing = await sandbox({ command: ['/no/such/binary'] });
    assert.deepEqual([missing.code, missing.reason, missing.error], [127, 'spawn_failed', 'execve(/no/such/binary): No such file or directory']);
  });

  it('drains: what is left after the main process gets the stop signal, then SIGKILL after the drain time', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drain-'));
    try {
      const polite = `(trap "echo drained > ${dir}/polite; exit 0" TERM; while :; do sleep 0.05; done) & sleep 0.3; exit 0`;
      const r = cli(['sandbox', '--drain', '10s', '--', 'sh', '-c', polite]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(fs.readFileSync(path.join(dir, 'polite'), 'utf8').trim(), 'drained');

      const started = Date.now();
      const stubborn = cli(['sandbox', '--drain', '300ms', '--', 'sh', '-c', '(trap "" TERM; exec sleep 120) & sleep 0.3; exit 6']);
      assert.equal(stubborn.code, 6, stubborn.stderr);
      assert.ok(Date.now() - started < 60_000, 'the stubborn process was killed after the drain, not waited for');
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });

  it('the command starts with a clean signal state and no inherited fds', () => {
    const r = cli(['sandbox', '--', 'sh', '-c', 'grep -E "^Sig(Blk|Ign)" /proc/self/status; ls /proc/self/fd']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0], /^SigBlk:\s+0+$/);
    assert.match(lines[1], /^SigIgn:\s+0+$/);
    assert.deepEqual(lines.slice(2).map(Number).sort(), [0, 1, 2, 3]); // 3 is ls reading the directory
  });

  it('SIGKILL of the supervisor leaves no process of the sandbox behind', async () => {
    const child = cliBackground(['sandbox', '--', 'sh', '-c', 'sleep 300 & sleep 300 & echo ready; wait']);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    await waitFor('the sandbox to start', () => out.includes('ready'));
    const init = childrenOf(child.pid!)[0];
    const ns = nsLink(await mainPid(init), 'pid');
    assert.ok(pidsInNamespace(ns).length >= 4, 'init, sh and two sleeps');
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    await waitFor('every process of the sandbox to end', () => pidsInNamespace(ns).length === 0);
  });
});
