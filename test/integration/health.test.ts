// Health checks of real services: one that stops answering is replaced in time, a watchdog that stops pinging too, startPeriod, a hung check.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { openCgroups } from '../../src/cgroup';
import { parseConfigText } from '../../src/config/load';
import { Supervisor } from '../../src/supervisor';
import { readInput } from '../../src/logs/peek-input';
import { removeTestRoot, testRoot } from './cgroup-helpers';
import { processesWhere, requireRoot, SLOWDOWN, waitFor } from './helpers';

/** An HTTP server on argv[1]: /healthz answers 200 for its first argv[2] requests, 500 after (a service that hangs up later). */
const FLAKY_PY = `
import http.server, sys
left = int(sys.argv[2])
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        global left
        left -= 1
        self.send_response(200 if left >= 0 else 500); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
`;

/** Says READY=1, then WATCHDOG=1 argv[1] times every 200 ms, then goes quiet (a main loop stuck). */
const WATCHDOG_PY = `
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"READY=1", os.environ["NOTIFY_SOCKET"])
assert os.environ["WATCHDOG_USEC"] == "1000000", os.environ["WATCHDOG_USEC"]
for _ in range(int(sys.argv[1])):
    s.sendto(b"WATCHDOG=1", os.environ["NOTIFY_SOCKET"]); time.sleep(0.2)
time.sleep(3600)
`;

function supervise(services: Record<string, unknown>) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'health-'));
  const root = testRoot();
  const config = parseConfigText(JSON.stringify({ supervisor: { control: path.join(dir, 'c.sock'), logDir: '-', metrics: 'off', cgroupRoot: root }, services }), 'test');
  const sup = new Supervisor(config, { notifyDir: path.join(dir, 'notify'), cgroups: openCgroups({ root }) });
  const events: { t: number; what: string }[] = [];
  sup.on('ready', (name) => events.push({ t: performance.now(), what: `${name} ready` }));
  sup.on('unhealthy', (name, why) => events.push({ t: performance.now(), what: `${name} unhealthy: ${why}` }));
  sup.on('output', (_n, input) => void readInput(input));
  const cleanup = async () => {
    await sup.stop();
    await removeTestRoot(root);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { sup, events, cleanup };
}

const NET = ['pid', 'mount', 'uts', 'ipc', 'cgroup', 'net'];

describe('health checks (root, real services)', function () {
  this.timeout(60_000 * SLOWDOWN);
  before(requireRoot);

  it('a service that stops answering /healthz is replaced within interval x failures plus the stop time', async () => {
    const { sup, events, cleanup } = supervise({
      web: {
        command: ['python3', '-c', FLAKY_PY, '8090', '3'],
        isolate: NET,
        ready: { tcp: 8090 },
        health: { http: 'http://127.0.0.1:8090/healthz', interval: '300ms', timeout: '1s', failures: 2 },
        restart: { delay: '100ms' },
        stop: { timeout: '2s' },
      },
    });
    try {
      await sup.start();
      const first = sup.service('web').pid;
      await waitFor('the replacement', () => sup.service('web').pid !== first && sup.service('web').state === 'running', 20_000);
      const ready = events.find((e) => e.what === 'web ready')!;
      const sick = events.find((e) => e.what.startsWith('web unhealthy'))!;
      assert.equal(sick.what, 'web unhealthy: 2 health checks failed in a row');
      // Three good answers, then two failures: about 5 intervals after ready (never before the second failure).
      const after = sick.t - ready.t;
      assert.ok(after >= 5 * 300 - 50 && after < (5 * 300 + 1000) * SLOWDOWN, `unhealthy ${after.toFixed(0)} ms after ready`);
      assert.equal(sup.service('web').lastExit?.reason, 'unhealthy');
      assert.equal(sup.service('web').restarts, 1, 'an automatic restart');
    } finally {
      await cleanup();
    }
  });

  it('a watchdog service that stops pinging gets SIGABRT and is replaced; WATCHDOG_USEC is set', async () => {
    const { sup, events, cleanup } = supervise({
      dog: { command: ['python3', '-c', WATCHDOG_PY, '5'], ready: { notify: true }, health: { watchdog: '1s' }, restart: { delay: '100ms' } },
    });
    try {
      await sup.start();
      const first = sup.service('dog').pid;
      await waitFor('the replacement', () => sup.service('dog').pid !== first && sup.service('dog').state === 'running', 20_000);
      assert.ok(events.some((e) => e.what === 'dog unhealthy: no WATCHDOG=1 within 1000 ms'), JSON.stringify(events));
      // python3 dies of SIGABRT (the default action): the exit is the watchdog's, not the stop signal's.
      assert.deepEqual([sup.service('dog').lastExit?.reason, sup.service('dog').lastExit?.signal], ['unhealthy', 'SIGABRT']);
    } finally {
      await cleanup();
    }
  });

  it('failures within startPeriod do not count', async () => {
    const { sup, events, cleanup } = supervise({
      slow: {
        command: ['python3', '-c', FLAKY_PY, '8091', '0'],
        isolate: NET,
        ready: { tcp: 8091 },
        health: { http: 'http://127.0.0.1:8091/healthz', interval: '200ms', failures: 2, startPeriod: '1500ms' },
        restart: { policy: 'never' },
        stop: { timeout: '2s' },
      },
    });
    try {
      await sup.start();
      await waitFor('unhealthy', () => events.some((e) => e.what.startsWith('slow unhealthy')), 20_000);
      const ready = events.find((e) => e.what === 'slow ready')!;
      const sick = events.find((e) => e.what.startsWith('slow unhealthy'))!;
      // Every answer fails; the first ones fall in the start period: two counted failures take it past 1.5 s.
      assert.ok(sick.t - ready.t >= 1500 + 200, `unhealthy ${(sick.t - ready.t).toFixed(0)} ms after ready`);
    } finally {
      await cleanup();
    }
  });

  it('a check that hangs is bounded by its timeout, and leaves no process of it in the service', async () => {
    const { sup, events, cleanup } = supervise({
      hung: { command: ['sleep', '3600'], health: { exec: ['sh', '-c', 'sleep 60 & exec sleep 61'], interval: '200ms', timeout: '300ms', failures: 2 }, restart: { policy: 'never' } },
    });
    try {
      await sup.start();
      const ready = events.find((e) => e.what === 'hung ready')!;
      await waitFor('unhealthy', () => events.some((e) => e.what.startsWith('hung unhealthy')), 20_000);
      const sick = events.find((e) => e.what.startsWith('hung unhealthy'))!;
      assert.ok(sick.t - ready.t < 4000 * SLOWDOWN, `two hung checks took ${(sick.t - ready.t).toFixed(0)} ms`);
      const sleepers = () => processesWhere((pid) => /^sleep 6[01]\0$/.test(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')));
      await waitFor('the checks to be gone', () => sleepers().length === 0, 5000);
    } finally {
      await cleanup();
    }
  });
});
