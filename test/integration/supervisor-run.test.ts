// `nsvisor run` for real: the CLI verbs over the control socket, logs, exec, shutdown, SIGKILL, and running as PID 1.
import { strict as assert } from 'assert';
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import { alive, childrenOf, cli, cliBackground, cliPath, killBackground, nsLink, processesWhere, requireRoot, waitFor } from './helpers';
import { removeRoots, startRun, stateOf, stopRun, writeConfig } from './supervisor-helpers';

describe('nsvisor run (root, real kernel)', function () {
  before(requireRoot);
  afterEach(async () => {
    killBackground();
    await removeRoots();
  });

  it('status, stop, start, restart, logs and exec over the control socket', async () => {
    const run = await startRun({
      // web prints what appears in /tmp/say: a line of its own stdout written on demand (an exec under the
      // default capabilities may not open its init's fds, as a ptrace check guards /proc/1/fd).
      web: { command: ['sh', '-c', 'echo hello from web; echo oops >&2; while sleep 0.05; do [ -f /tmp/say ] && cat /tmp/say && rm /tmp/say; done'], hostname: 'web-host', resources: { memory: '32Mi' } },
      idle: { command: ['sleep', '3600'] },
    });
    try {
      await waitFor('both running', () => run.status().every((s: any) => s.state === 'running'));
      const table = run.ctl(['status']);
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /^NAME\s+STATE\s+PID\s+UPTIME\s+RESTARTS\s+LAST EXIT/);
      assert.match(table.stdout, /^web\s+running\s+\d+\s+\S+\s+0\s+-\s+\d+\.\ds\s+[\d.]+\S*i? \/ 32Mi/m);
      const web = stateOf(run, 'web');
      for (const key of ['name', 'state', 'pid', 'restarts', 'startedAt', 'lastExit']) assert.ok(key in web, key);

      await waitFor('the log lines', () => run.ctl(['logs', 'web']).stdout.includes('oops'));
      const logs = run.ctl(['logs', 'web', '-n', '2']).stdout.trim().split('\n');
      assert.equal(logs.length, 2);
      assert.match(logs[0], /hello from web$/);
      assert.match(logs[1], /oops$/);
      assert.ok(fs.existsSync(path.join(run.dir, 'logs', 'web.log')), 'logDir/NAME.log');

      const follower = cliBackground(['logs', '--socket', run.socket, 'web', '-f', '-n', '0']);
      let followed = '';
      follower.stdout!.on('data', (d) => (followed += d));
      await waitFor('logs -f to be connected', () => {
        run.ctl(['exec', 'web', '--', 'sh', '-c', 'echo followed-line > /tmp/say.new && mv /tmp/say.new /tmp/say']);
        return followed.includes('followed-line');
      });
      follower.kill('SIGINT');

      const exec = run.ctl(['exec', 'web', '--', 'sh', '-c', 'hostname; cat /proc/1/cmdline | tr "\\0" " "; echo; cat /proc/self/cgroup']);
      assert.equal(exec.code, 0, exec.stderr);
      assert.match(exec.stdout, /^web-host\nnsvisor-init /);
      assert.match(exec.stdout, /^0::\/$/m, 'exec runs in the service cgroup (the root of its cgroup namespace)');
      assert.equal(run.ctl(['exec', 'web', '--', 'sh', '-c', 'exit 7']).code, 7);

      const oldPid = web.pid;
      assert.equal(run.ctl(['stop', 'web']).code, 0);
      assert.equal(stateOf(run, 'web').state, 'stopped');
      assert.ok(!alive(oldPid));
      assert.match(run.ctl(['start', 'web']).stdout, /^web: running \(pid \d+\)/);
      const restarted = run.ctl(['restart', 'web']);
      assert.equal(restarted.code, 0, restarted.stderr);
      // Restarts count automatic ones only (systemd's NRestarts): these three starts were asked for.
      assert.deepEqual([stateOf(run, 'web').starts, stateOf(run, 'web').restarts], [3, 0]);
      assert.equal(stateOf(run, 'idle').state, 'running', 'the other service was not touched');
    } finally {
      assert.equal(await stopRun(run), 0);
    }
  });

  it('errors: unknown service exits 1, no supervisor exits 3', async () => {
    const run = await startRun({ idle: { command: ['sleep', '3600'] } });
    try {
      const unknown = run.ctl(['stop', 'nope']);
      assert.equal(unknown.code, 1);
      assert.equal(unknown.stderr.trim(), 'nsvisor: unknown service "nope"');
    } finally {
      await stopRun(run);
    }
    const none = cli(['status', '--socket', '/tmp/no-such-dir/none.sock']);
    assert.equal(none.code, 3);
    assert.match(none.stderr, /no supervisor is running on \/tmp\/no-such-dir\/none\.sock/);
  });

  it('a flood of output does not stall status', async () => {
    const run = await startRun({ flood: { command: ['yes', 'a line of output that keeps coming'] }, idle: { command: ['sleep', '3600'] } });
    try {
      await waitFor('the flood to run', () => stateOf(run, 'flood').state === 'running');
      for (let i = 0; i < 5; i++) assert.equal(run.ctl(['status', 'idle', '--json']).code, 0);
    } finally {
      assert.equal(await stopRun(run), 0);
    }
  });

  it('SIGTERM stops everything in reverse dependency order within the bound and exits 0', async () => {
    const services = {
      a: { command: ['sleep', '3600'] },
      b: { command: ['sh', '-c', 'trap "" TERM; exec sleep 3600'], stop: { timeout: '500ms', drain: '0s' }, dependsOn: ['a'] },
      c: { command: ['sleep', '3600'], dependsOn: ['a'] },
    };
    const run = await startRun(services, { shutdownTimeout: '5s' });
    await waitFor('all running', () => run.status().every((s: any) => s.state === 'running'));
    const pids = run.status().map((s: any) => s.pid);
    const t0 = Date.now();
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0);
    assert.ok(Date.now() - t0 < 5000 + 2000, 'within shutdownTimeout');
    for (const pid of pids) assert.ok(!alive(pid), `pid ${pid} is gone`);
    fs.rmSync(run.dir, { recursive: true, force: true });
  });

  it('a second SIGINT kills at once instead of waiting for stop.timeout', async () => {
    const run = await startRun({ slow: { command: ['sh', '-c', 'trap "" TERM INT; exec sleep 120'], stop: { timeout: '60s' } } }, { shutdownTimeout: '90s' });
    await waitFor('running', () => stateOf(run, 'slow').state === 'running');
    const pid = stateOf(run, 'slow').pid;
    const t0 = Date.now();
    run.child.kill('SIGINT');
    await waitFor('stopping', () => run.output().includes('SIGINT: stopping all services'));
    run.child.kill('SIGINT');
    assert.equal(await run.exited, 0);
    assert.ok(Date.now() - t0 < 30_000, 'did not wait for the 60 s stop timeout');
    assert.match(run.output(), /second SIGINT: killing every service now/);
    assert.ok(!alive(pid));
    fs.rmSync(run.dir, { recursive: true, force: true });
  });

  it('SIGKILL of the supervisor leaves no service process (adoptTimeout 0)', async () => {
    const run = await startRun({ a: { command: ['sh', '-c', 'sleep 3600 & exec sleep 3600'] }, b: { command: ['sleep', '3600'], isolate: ['uts'] } }, { adoptTimeout: '0s' });
    await waitFor('all running', () => run.status().every((s: any) => s.state === 'running'));
    const inits = run.status().map((s: any) => s.initPid as number);
    const all = inits.flatMap((pid) => [pid, ...childrenOf(pid)]);
    run.child.kill('SIGKILL');
    await run.exited;
    for (const pid of all) await waitFor(`process ${pid} to end`, () => !alive(pid));
    fs.rmSync(run.dir, { recursive: true, force: true });
  });

  it('as PID 1 of a fresh pid namespace: reaps orphans and shuts down on SIGTERM', async () => {
    const { dir, socket, file } = writeConfig({ idle: { command: ['sleep', '3600'] } });
    const child = spawn('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', process.execPath, cliPath, 'run', '-c', file], { stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      await waitFor('the control socket', () => fs.existsSync(socket));
      const pid1 = childrenOf(child.pid!)[0];
      assert.equal(fs.readFileSync(`/proc/${pid1}/status`, 'utf8').match(/^NSpid:\s+\d+\s+(\d+)/m)![1], '1', 'node is PID 1 inside');
      // An orphan inside that namespace: its parent exits at once, so it is reparented to PID 1, the supervisor.
      execFileSync('nsenter', ['--target', String(pid1), '--pid', '--mount', 'sh', '-c', '(exec sleep 2 &)'], { stdio: 'ignore' });
      const ns = nsLink(pid1, 'pid');
      const inNs = () => processesWhere((pid) => nsLink(pid, 'pid') === ns);
      const stat = (pid: number) => fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
      const orphan = await waitFor('the orphan', () => inNs().find((pid) => fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep' && Number(stat(pid)[1]) === pid1));
      assert.ok(orphan, 'the orphan was reparented to the supervisor');
      await waitFor('the orphan to be reaped, no zombie left', () => !fs.existsSync(`/proc/${orphan}`), 10_000);
      assert.deepEqual(inNs().filter((pid) => stat(pid)[0] === 'Z'), []);
      process.kill(pid1, 'SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
