// Supervision with real services: backoff, restart policies, dependency order with notify and tcp readiness, stop and kill.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

import { parseConfigText } from '../../src/config/load';
import { openCgroups } from '../../src/cgroup';
import { detectLayout } from '../../src/cgroup/detect';
import { Supervisor } from '../../src/supervisor';
import { readInput } from '../../src/logs/peek-input';
import { removeTestRoot, testRoot } from './cgroup-helpers';
import { mainPid, requireRoot, waitFor } from './helpers';

/** A supervisor from YAML-ish objects, with every service's transitions recorded with their times. */
function supervise(services: Record<string, unknown>) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifecycle-'));
  const root = testRoot();
  const config = parseConfigText(JSON.stringify({ supervisor: { control: path.join(dir, 'c.sock'), logDir: '-', metrics: 'off', cgroupRoot: root }, services }), 'test');
  const sup = new Supervisor(config, { notifyDir: path.join(dir, 'notify'), cgroups: openCgroups({ root }) });
  const events: { t: number; name: string; state: string }[] = [];
  sup.on('state', (name, state) => events.push({ t: performance.now(), name, state }));
  sup.on('output', (_n, input) => void readInput(input));
  const cleanup = async () => {
    await sup.stop();
    await removeTestRoot(root);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { sup, events, dir, cleanup };
}

const notifyReady = (delay: number) =>
  `sleep ${delay}; python3 -c 'import socket,os; s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.sendto(b"READY=1", os.environ["NOTIFY_SOCKET"])'; exec sleep 3600`;

describe('supervisor: lifecycle (root, real kernel)', function () {
  before(requireRoot);

  it('a crash loop backs off doubling up to maxDelay, never fails, and resets after a healthy run', async () => {
    const counter = fs.mkdtempSync(path.join(os.tmpdir(), 'counter-'));
    // Five quick crashes, then one instance that runs 1.5 s (longer than resetAfter) before crashing again.
    const script = `n=$(cat ${counter}/n 2>/dev/null || echo 0); echo $((n+1)) > ${counter}/n; [ "$n" = 5 ] && sleep 1.5; exit 1`;
    const { sup, events, cleanup } = supervise({
      looper: { command: ['sh', '-c', script], restart: { delay: '100ms', maxDelay: '400ms', resetAfter: '1s' } },
    });
    try {
      void sup.start();
      await waitFor('eight starts', () => events.filter((e) => e.state === 'starting').length >= 8, 30_000);
      const looper = events.filter((e) => e.name === 'looper');
      const delays: number[] = [];
      for (let i = 0; i < looper.length; i++) {
        const next = looper.slice(i).find((e) => e.state === 'starting');
        if (looper[i].state === 'backoff' && next) delays.push(next.t - looper[i].t);
      }
      const expected = [100, 200, 400, 400, 400, 100, 200];
      for (let i = 0; i < expected.length; i++) {
        assert.ok(delays[i] >= expected[i] - 5 && delays[i] < expected[i] + 1000, `delay ${i}: ${delays[i].toFixed(0)} ms, expected ${expected[i]}`);
      }
      assert.ok(!looper.some((e) => e.state === 'failed'), 'a crash loop is never "failed"');
      assert.equal(sup.service('looper').lastExit?.reason, 'error');
    } finally {
      await cleanup();
      fs.rmSync(counter, { recursive: true });
    }
  });

  it('restart policies: always restarts a clean exit, on-failure only a failure, never nothing', async () => {
    const { sup, events, cleanup } = supervise({
      always: { command: ['true'], restart: { policy: 'always', delay: '50ms' } },
      'on-failure-ok': { command: ['true'], restart: { policy: 'on-failure', delay: '50ms' } },
      'on-failure-bad': { command: ['false'], restart: { policy: 'on-failure', delay: '50ms' } },
      never: { command: ['false'], restart: { policy: 'never' } },
    });
    try {
      void sup.start();
      const starts = (n: string) => events.filter((e) => e.name === n && e.state === 'starting').length;
      await waitFor('restarts', () => starts('always') >= 3 && starts('on-failure-bad') >= 3, 20_000);
      await waitFor('the others to stop', () => sup.service('on-failure-ok').state === 'stopped' && sup.service('never').state === 'stopped');
      assert.equal(starts('on-failure-ok'), 1);
      assert.equal(starts('never'), 1);
      assert.deepEqual(sup.service('on-failure-ok').lastExit?.reason, 'completed');
      assert.deepEqual([sup.service('never').lastExit?.reason, sup.service('never').lastExit?.code], ['error', 1]);
    } finally {
      await cleanup();
    }
  });

  it('dependsOn: starts after the dependency is ready (notify, tcp), stops in reverse', async () => {
    const { sup, events, cleanup } = supervise({
      db: { command: ['sh', '-c', notifyReady(0.3)], ready: { notify: true, timeout: '10s' } },
      api: {
        command: [process.execPath, '-e', 'setTimeout(() => require("net").createServer().listen(7070, "127.0.0.1"), 300)'],
        isolate: ['pid', 'mount', 'uts', 'ipc', 'net'],
        ready: { tcp: 7070, timeout: '10s' },
        dependsOn: ['db'],
      },
      web: { command: ['sleep', '3600'], dependsOn: ['api'] },
    });
    try {
      await sup.start();
      const at = (name: string, state: string) => events.findIndex((e) => e.name === name && e.state === state);
      assert.ok(at('db', 'running') < at('api', 'starting'), 'api started only once db said READY=1');
      assert.ok(at('api', 'running') < at('web', 'starting'), 'web started only once api accepted connections');
      assert.ok(events[at('db', 'running')].t - events[at('db', 'starting')].t >= 300, 'db was not ready before it said so');
      await sup.stop();
      assert.ok(at('web', 'stopped') < at('api', 'stopping') && at('api', 'stopped') < at('db', 'stopping'), 'stops in reverse');
    } finally {
      await cleanup();
    }
  });

  it('http readiness: a 2xx from inside the service network namespace, where the host cannot reach', async () => {
    const server = 'setTimeout(() => require("http").createServer((q, r) => { r.statusCode = q.url === "/healthz" ? 204 : 404; r.end(); }).listen(7071, "127.0.0.1"), 300)';
    const { sup, events, cleanup } = supervise({
      api: { command: [process.execPath, '-e', server], isolate: ['pid', 'mount', 'uts', 'ipc', 'net'], ready: { http: 'http://127.0.0.1:7071/healthz', timeout: '10s' } },
    });
    try {
      await sup.start();
      assert.equal(sup.service('api').state, 'running');
      const at = (state: string) => events.find((e) => e.state === state)!.t;
      assert.ok(at('running') - at('starting') >= 300, 'not ready before the server listened');
      const fromHost = await new Promise<boolean>((resolve) => {
        const s = net.connect(7071, '127.0.0.1', () => resolve(true)).on('error', () => resolve(false));
        s.unref();
      });
      assert.equal(fromHost, false, 'the port exists only inside the service network namespace');
    } finally {
      await cleanup();
    }
  });

  it('readiness timeout makes a failed attempt; an exec check runs inside the service', async () => {
    const { sup, cleanup } = supervise({
      silent: { command: ['sleep', '3600'], ready: { notify: true, timeout: '300ms' }, restart: { delay: '10s' } },
      checked: { command: ['sh', '-c', 'sleep 0.3; touch /tmp/ready-mark; exec sleep 3600'], mounts: [{ type: 'tmpfs', target: '/tmp' }], ready: { exec: ['test', '-e', '/tmp/ready-mark'], timeout: '10s' } },
    });
    try {
      await sup.start();
      assert.equal(sup.service('checked').state, 'running');
      assert.ok(!fs.existsSync('/tmp/ready-mark'), 'the mark lives in the service tmpfs only: the check ran inside');
      await waitFor('the silent service to back off', () => sup.service('silent').state === 'backoff');
      assert.match(sup.service('silent').failure ?? '', /not ready within 300 ms \(waiting for READY=1 on NOTIFY_SOCKET\)/);
    } finally {
      await cleanup();
    }
  });

  it('a stop during the start starts nothing more: not before the first service, not a dependent whose dependency was ready', async () => {
    // stop() in the same tick as start(): the start is still in its prelude (stale cgroups, networks).
    const early = supervise({ one: { command: ['sleep', '3600'] }, two: { command: ['sleep', '3600'], dependsOn: ['one'] } });
    const attempts: string[] = [];
    early.sup.on('attempt', (name) => attempts.push(name));
    try {
      const starting = early.sup.start();
      await early.sup.stop();
      await starting;
      assert.deepEqual(attempts, [], 'nothing was started by a start that a stop overtook');
      assert.deepEqual([...early.sup.services.values()].map((s) => s.state), ['stopped', 'stopped']);
    } finally {
      await early.cleanup();
    }
    // A stop while the dependency is becoming ready: the dependent, whose stop found it not started, stays so.
    const late = supervise({
      db: { command: ['sh', '-c', notifyReady(0.3)], ready: { notify: true, timeout: '10s' } },
      web: { command: ['sleep', '3600'], dependsOn: ['db'] },
    });
    const spawned: string[] = [];
    late.sup.on('attempt', (name) => spawned.push(name));
    try {
      void late.sup.start();
      await waitFor('db starting', () => late.sup.service('db').state === 'starting');
      await late.sup.stop();
      assert.deepEqual(spawned, ['db']);
      assert.deepEqual([late.sup.service('db').state, late.sup.service('web').state], ['stopped', 'stopped']);
    } finally {
      await late.cleanup();
    }
  });

  it('a service ignoring SIGTERM is SIGKILLed after stop.timeout, with everything in it', async () => {
    const { sup, cleanup } = supervise({
      stubborn: { command: ['sh', '-c', 'trap "" TERM; sleep 3600 & sleep 3600 & wait'], stop: { timeout: '300ms', drain: '0s' } },
    });
    try {
      await sup.start();
      const pid = sup.service('stubborn').pid!;
      const main = await mainPid(pid);
      const ignored = () => BigInt('0x' + /^SigIgn:\s+(\S+)/m.exec(fs.readFileSync(`/proc/${main}/status`, 'utf8'))![1]);
      await waitFor('the trap to be set', () => (ignored() & (1n << BigInt(os.constants.signals.SIGTERM - 1))) !== 0n);
      const killed = new Promise<boolean>((r) => sup.on('stopped', (_n, _s, k) => r(k)));
      await sup.service('stubborn').stop();
      assert.equal(await killed, true);
      assert.equal(sup.service('stubborn').lastExit?.signal, 'SIGKILL');
      assert.ok(!fs.existsSync(`/proc/${pid}`), 'nsvisor-init is gone');
    } finally {
      await cleanup();
    }
  });

  it('a service the OOM killer ends exits with reason oom_killed, and restarts', async () => {
    const { sup, events, cleanup } = supervise({
      hog: { command: [process.execPath, '-e', 'const a = []; for (;;) a.push(Buffer.alloc(1 << 20, 1));'], resources: { memory: '64Mi' }, restart: { delay: '10s' } },
    });
    try {
      void sup.start();
      await waitFor('the OOM kill', () => sup.service('hog').lastExit !== null, 60_000);
      assert.equal(sup.service('hog').lastExit?.reason, 'oom_killed');
      assert.ok(events.some((e) => e.name === 'hog' && e.state === 'backoff'));
    } finally {
      await cleanup();
    }
  });

  it('exit reasons come from how the main process ended: exit(130) is an error, a SIGINT is signaled', async () => {
    const { sup, cleanup } = supervise({
      deliberate: { command: ['sh', '-c', 'exit 130'], restart: { policy: 'never' } },
      interrupted: { command: ['sh', '-c', 'kill -INT $$'], restart: { policy: 'never' } },
    });
    try {
      void sup.start();
      await waitFor('both ended', () => sup.service('deliberate').lastExit && sup.service('interrupted').lastExit);
      assert.deepEqual(sup.service('deliberate').lastExit, { code: 130, signal: null, reason: 'error', at: sup.service('deliberate').lastExit!.at });
      assert.deepEqual(sup.service('interrupted').lastExit, { code: 130, signal: 'SIGINT', reason: 'signaled', at: sup.service('interrupted').lastExit!.at });
    } finally {
      await cleanup();
    }
  });

  it('without a pid namespace, a stop that times out kills every process in the service cgroup', async () => {
    const { sup, cleanup } = supervise({
      loose: { command: ['sh', '-c', 'trap "" TERM; (trap "" TERM; exec sleep 3600) & exec sleep 3600'], isolate: ['uts'], stop: { timeout: '300ms', drain: '0s' } },
    });
    try {
      await sup.start();
      const pids = sup.service('loose').cgroup!.pids();
      await waitFor('both sleeps', () => sup.service('loose').cgroup!.pids().length >= 3);
      const all = sup.service('loose').cgroup!.pids();
      await sup.service('loose').stop();
      for (const pid of [...pids, ...all]) assert.ok(!fs.existsSync(`/proc/${pid}`) || fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z'), `pid ${pid} survived`);
      assert.equal(sup.service('loose').cgroup, null, 'the cgroup is gone');
    } finally {
      await cleanup();
    }
  });

  it('a start that can never work is failed, with the reason, and not retried; the others run', async () => {
    const { sup, cleanup } = supervise({
      broken: { command: ['/no/such/program'] },
      // A bind source that does not exist: the mount step can never work.
      unmountable: { command: ['true'], mounts: [{ type: 'bind', source: '/no/such/source', target: '/mnt' }] },
      // memoryHigh exists on cgroup v2 only: on this host's v1 memory controller it can never be set.
      soft: { command: ['sleep', '3600'], resources: { memoryHigh: '100Mi' } },
      fine: { command: ['sleep', '3600'] },
    });
    const starts: string[] = [];
    sup.on('attempt', (name) => starts.push(name));
    try {
      await sup.start();
      assert.equal(sup.service('broken').state, 'failed');
      assert.equal(sup.service('broken').failure, 'execve(/no/such/program): No such file or directory');
      assert.equal(sup.service('broken').lastExit?.reason, 'spawn_failed');
      assert.equal(sup.service('unmountable').state, 'failed');
      assert.equal(sup.service('unmountable').failure, 'mounts[0].source: /no/such/source does not exist');
      if (detectLayout().v1.memory) {
        assert.equal(sup.service('soft').state, 'failed');
        assert.equal(sup.service('soft').failure, 'resources.memoryHigh: memory.high exists only on cgroup v2 (this host has the v1 memory controller)');
      } else {
        assert.equal(sup.service('soft').state, 'running');
      }
      assert.equal(sup.service('fine').state, 'running');
      // failed, not backoff: no retry is scheduled (the state machine's unit tests pin that no timer is left).
      assert.deepEqual(starts.filter((n) => n !== 'fine' && n !== 'soft').sort(), ['broken', 'unmountable'], 'each tried once');
      assert.equal(sup.service('unmountable').nextStartAt, null);
    } finally {
      await cleanup();
    }
  });
});
