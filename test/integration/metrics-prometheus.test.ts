// The dashboard proven live: a real Prometheus scrapes a real `nsvisor run` every second (5 s in v2vm), both in a throwaway network namespace; every panel and variable query returns data.
import { strict as assert } from 'assert';
import * as fs from 'fs';

import type { Panel } from '@grafana/schema';

import { dashboard } from '../../grafana/src/dashboard';
import { allPanels } from '../../grafana/src/lint';
import { cli, requireRoot, SLOWDOWN, waitForAsync } from './helpers';
import { TestHost } from './net-helpers';
import { hasPrometheus, NetnsPrometheus } from './prometheus-helpers';
import { removeRoots, writeConfig } from './supervisor-helpers';

const JOB = 'nsvisor-live';
const METRICS_PORT = 9753;
const GATEWAY = '10.89.7.1';

/** Sends a datagram to the gateway every 200 ms (its "port unreachable" answers come back): traffic on eth0 both ways. */
const UDP_PY = `
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
while True:
    s.sendto(b'nsvisor' * 20, (sys.argv[1], 9)); time.sleep(0.2)
`;

/** The fixtures: idle (with a health check), a CPU burner under a quota, a memory hog the OOM killer ends, a crash-looper (with orphans), one on a bridge. */
const SERVICES = {
  idle: { command: ['sleep', '3600'], resources: { memory: '32Mi', pids: 64, cpus: 0.5 }, stop: { timeout: '2s' }, health: { exec: ['true'], interval: '2s' } },
  burner: { command: ['sh', '-c', 'while :; do :; done'], resources: { cpus: 0.2 } },
  hog: {
    command: [process.execPath, '-e', 'const a = []; for (;;) a.push(Buffer.alloc(1 << 20, 1));'],
    resources: { memory: '64Mi' },
    restart: { delay: '1h', maxDelay: '1h' },
  },
  // Leaves an orphan to nsvisor-init at each run, then fails. Slower under emulation, where each start costs far more CPU.
  crash: {
    command: ['sh', '-c', '(sleep 0.05 &); sleep 0.2; exit 3'],
    restart: { policy: 'always', delay: `${100 * Math.min(SLOWDOWN, 5)}ms`, maxDelay: `${200 * Math.min(SLOWDOWN, 5)}ms` },
  },
  net: {
    command: ['/usr/bin/python3', '-c', UDP_PY, GATEWAY],
    isolate: ['pid', 'mount', 'uts', 'ipc', 'cgroup', 'net'],
    network: { attach: 'nsvlive0' },
  },
};
const NAMES = Object.keys(SERVICES).sort();

/**
 * Panels that may return nothing here, and why: the pressure panels only on a kernel without PSI (booted with
 * psi=0 or built without it), where the pressure series are absent by design.
 */
const MAY_BE_EMPTY = new Map<string, string>(
  fs.existsSync('/proc/pressure/cpu') ? [] : ['CPU pressure', 'MEMORY pressure', 'IO pressure'].map((t) => [t, 'no PSI in this kernel']),
);

interface DashboardQuery {
  panel: string;
  expr: string;
  instant: boolean;
}

function dashboardQueries(): DashboardQuery[] {
  return allPanels(dashboard).flatMap((p: Panel) =>
    (p.targets ?? []).map((t) => ({ panel: p.title ?? '?', expr: String(t.expr), instant: Boolean((t as { instant?: boolean }).instant) })),
  );
}

/** A result with at least one finite sample: a vector of an instant query, or a matrix of a range query. */
function hasData(data: { resultType: string; result: { value?: [number, string]; values?: [number, string][] }[] }): boolean {
  const samples = data.result.flatMap((r) => (r.values ?? (r.value ? [r.value] : [])).map(([, v]) => Number(v)));
  return samples.some(Number.isFinite);
}

describe('the Grafana dashboard against a live Prometheus scraping nsvisor run (root, real kernel)', function () {
  this.timeout(180_000 * SLOWDOWN);
  let host: TestHost | undefined;
  let prom: NetnsPrometheus | undefined;
  let supervisor: ReturnType<TestHost['background']> | undefined;
  let configDir = '';
  let started = 0;
  /** The rate window: Grafana's 4 x the scrape interval, or more where scrapes came further apart than configured. */
  let rateWindow = 0;
  /** Grafana's substitution of the variables: job picked, All instances, every service picked (a multi-value regex). */
  const substitute = (expr: string, rangeSeconds: number) =>
    expr
      .replace(/\$__rate_interval/g, `${rateWindow}s`)
      .replace(/\$__range/g, `${rangeSeconds}s`)
      .replace(/\$job\b/g, JOB)
      .replace(/\$instance\b/g, '.*')
      .replace(/\$name\b/g, `(${NAMES.join('|')})`);
  const now = () => Date.now() / 1000;

  before(async function () {
    requireRoot();
    if (!hasPrometheus()) {
      if (process.env.NSVISOR_REQUIRE_PROMTOOL) throw new Error('prometheus not installed (Debian: apt-get install prometheus)');
      this.skip();
    }
    host = new TestHost();
    host.ip('-n', host.name, 'link', 'set', 'lo', 'up');
    const { dir, file, socket } = writeConfig(SERVICES, { metrics: `127.0.0.1:${METRICS_PORT}` }, { networks: { nsvlive0: { subnet: '10.89.7.0/24' } } });
    configDir = dir;
    supervisor = host.background(['run', '-c', file]);
    await host.waitOutput(supervisor, /metrics on http:\/\/127\.0\.0\.1:\d+\/metrics/);
    prom = new NetnsPrometheus(host.name);
    await prom.start(JOB, METRICS_PORT);
    started = now();
    // Two restarts of idle, a few scrapes apart: the shutdown histogram gets observations to take a rate of.
    const restart = async () => {
      await new Promise((r) => setTimeout(r, 3000 * SLOWDOWN));
      const r = cli(['restart', 'idle', '--socket', socket]);
      assert.equal(r.code, 0, r.stderr);
    };
    await restart();
    await restart();
    const instant = async (q: string) => (await prom!.api('query', { query: q, time: now() })).result.length > 0;
    await waitForAsync('15 good scrapes, the OOM kill of hog and a second shutdown of idle', async () =>
      (await instant(`sum_over_time(up{job="${JOB}"}[10m]) >= 15`)) &&
      (await instant('nsvisor_service_oom_kills_total{name="hog"} >= 1')) &&
      (await instant('nsvisor_service_shutdown_duration_seconds_count{name="idle"} >= 2')) &&
      (await instant(`nsvisor_service_network_transmit_bytes_total{name="net", interface="eth0"} > 0`)),
    );
    // $__rate_interval is 4 scrape intervals so that a window holds the two samples a rate needs. Under emulation
    // (v2vm) a starved Prometheus scrapes later than configured: the window then follows the widest gap seen.
    rateWindow = Math.max(4 * prom.interval, Math.ceil(2.5 * (await scrapeGaps()).max));
    // idle's first shutdown starts its histogram series, so only the second is an increase a rate can see. Until the
    // scrape that saw it is a second old, no step of the panels' range queries (1 s apart) may fall after it.
    const secondShutdown = 'nsvisor_service_shutdown_duration_seconds_count{name="idle"} >= 2';
    await waitForAsync("idle's second shutdown, scraped a second ago", async () => (await prom!.api('query', { query: secondShutdown, time: now() - 1 })).result.length > 0);
  });

  /** The gaps between successive scrapes so far, in seconds: the widest, and all of them (for a failure's message). */
  async function scrapeGaps(): Promise<{ max: number; all: number[] }> {
    const r = await prom!.api('query', { query: `up{job="${JOB}"}[15m]`, time: now() });
    const times: number[] = (r.result[0]?.values ?? []).map(([t]: [number, string]) => Number(t));
    const all = times.slice(1).map((t, i) => Math.round((t - times[i]) * 10) / 10);
    return { max: Math.max(0, ...all), all };
  }

  after(async () => {
    await prom?.stop();
    if (supervisor && supervisor.child.exitCode === null) {
      const exited = new Promise((r) => supervisor!.child.once('exit', r));
      supervisor.child.kill('SIGTERM');
      await exited;
    }
    host?.destroy();
    await removeRoots();
    if (configDir) fs.rmSync(configDir, { recursive: true, force: true });
  });

  it('every variable query finds the job, the instance and every service', async () => {
    const range = { start: started - 60, end: now() };
    const vars = (dashboard.templating?.list ?? []).filter((v) => v.type === 'query');
    assert.deepEqual(vars.map((v) => v.name), ['job', 'instance', 'name']);
    const found = new Map<string, string[]>();
    for (const v of vars) {
      const m = /^label_values\((.*),\s*(\w+)\)$/.exec(String((v.query as { query: string }).query));
      assert.ok(m, `${v.name}: not label_values(SELECTOR, LABEL)`);
      found.set(v.name, await prom!.api(`label/${m[2]}/values`, { 'match[]': substitute(m[1], 60), ...range }));
    }
    assert.deepEqual(found.get('job'), [JOB]);
    assert.deepEqual(found.get('instance'), [`127.0.0.1:${METRICS_PORT}`]);
    assert.deepEqual(found.get('name'), NAMES);
  });

  it(`every panel query succeeds and returns data (may be empty: ${[...MAY_BE_EMPTY.keys()].join(', ') || 'none here'})`, async () => {
    const end = now();
    const rangeSeconds = Math.ceil(end - started);
    const empty: string[] = [];
    const queries = dashboardQueries();
    for (const q of queries) {
      const query = substitute(q.expr, rangeSeconds);
      const data = q.instant
        ? await prom!.api('query', { query, time: end })
        : await prom!.api('query_range', { query, start: started, end, step: 1 });
      if (!hasData(data) && !MAY_BE_EMPTY.has(q.panel)) empty.push(`${q.panel}: ${query}`);
    }
    if (empty.length) {
      const failed = await prom!.api('query', { query: `count_over_time(up{job="${JOB}"}[10m]) - sum_over_time(up{job="${JOB}"}[10m])`, time: end });
      const shutdowns = await prom!.api('query', { query: 'nsvisor_service_shutdown_duration_seconds_count{name="idle"}[15m]', time: end });
      const context = [
        `${failed.result[0]?.value[1] ?? '?'} failed scrapes`,
        `rate window ${rateWindow}s`,
        `gaps between scrapes ${(await scrapeGaps()).all.join(' ')}`,
        `idle's shutdown count samples ${JSON.stringify(shutdowns.result[0]?.values ?? [])}`,
        `range ${started}..${end}`,
        `prometheus log: ${prom!.log()}`,
      ];
      assert.deepEqual(empty, [], `queries without data (${context.join('; ')})`);
    }
    assert.ok(queries.length > 30);
  });

  it('has what the fixtures did: the OOM kill, the crash loop and its orphans, the throttled burner, traffic on the bridge', async () => {
    const value = async (q: string) => {
      const r = (await prom!.api('query', { query: q, time: now() })).result;
      return r.length ? Number(r[0].value[1]) : NaN;
    };
    assert.equal(await value('nsvisor_service_oom_kills_total{name="hog"}'), 1);
    assert.ok((await value('nsvisor_service_restarts_total{name="crash"}')) >= 2);
    assert.ok((await value('nsvisor_service_reaped_total{name="crash"}')) >= 1);
    // idle's two restarts were asked for: starts, not automatic restarts.
    assert.equal(await value('nsvisor_service_starts_total{name="idle"}'), 3);
    assert.equal(await value('nsvisor_service_restarts_total{name="idle"}'), 0);
    assert.ok((await value('nsvisor_service_cpu_throttled_seconds_total{name="burner"}')) > 0);
    assert.ok((await value('nsvisor_service_network_receive_bytes_total{name="net", interface="eth0"}')) > 0);
    assert.equal(await value('count(nsvisor_service_network_receive_bytes_total{interface="lo"})'), NaN, 'lo is left out');
  });
});
