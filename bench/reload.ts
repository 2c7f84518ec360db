// A reload of 1,000 running services of which one changed, against a full stop and start of them: wall time and the event loop's p99 delay.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { monitorEventLoopDelay } from 'perf_hooks';
import { stringify } from 'yaml';

import { closeCgroupPool, openCgroups } from '../src/cgroup';
import { detectLayout } from '../src/cgroup/detect';
import { loadConfig } from '../src/config/load';
import { closeConfigPool } from '../src/config/load-off-loop';
import { reloadHostProblems } from '../src/daemon';
import { EventLog } from '../src/events/event-log';
import { Reloader } from '../src/reload/reloader';
import { readInput } from '../src/logs/peek-input';
import { Supervisor } from '../src/supervisor';
import { f2, lagOf, pageOpening } from './cgroup-bench';

export interface ReloadBenchOptions {
  services: number;
}

interface Timed {
  what: string;
  seconds: number;
  lagP99Ms: number;
  lagMaxMs: number;
  /** Pids of the services not changed that are the same afterwards (all of them, for a reload that works). */
  samePids: number;
}

export interface ReloadBenchResult {
  services: number;
  layout: string;
  runs: Timed[];
  /** The machine's 1-minute load average before and after (other work on the machine slows the full restart most). */
  load: [number, number];
  targets: { what: string; target: string; value: string; met: boolean }[];
}

/** Runs `fn` with the event loop's delay measured meanwhile. */
async function timed(what: string, fn: () => Promise<number>): Promise<Timed> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const t0 = performance.now();
  const samePids = await fn();
  const seconds = (performance.now() - t0) / 1000;
  h.disable();
  const lag = lagOf(h);
  return { what, seconds, lagP99Ms: lag.p99, lagMaxMs: lag.max, samePids };
}

function writeConfig(file: string, root: string, services: number, changed: Record<string, unknown> = {}): void {
  const config = {
    supervisor: { control: path.join(path.dirname(file), 'c.sock'), logDir: path.join(path.dirname(file), 'logs'), metrics: 'off', cgroupRoot: root, shutdownTimeout: '120s' },
    services: Object.fromEntries(
      Array.from({ length: services }, (_, i) => [`s${i}`, { command: ['sleep', '3600'], resources: { memory: '16Mi', pids: 16 }, ...(i === 0 ? changed : {}) }]),
    ),
  };
  fs.writeFileSync(file, stringify(config));
}

const pidsOf = (sup: Supervisor) => new Map([...sup.services].map(([n, s]) => [n, s.pid]));
const same = (a: Map<string, number | null>, b: Map<string, number | null>) => [...a].filter(([n, p]) => n !== 's0' && p !== null && b.get(n) === p).length;

/** Starts every service and waits until each is running. */
async function startAll(sup: Supervisor): Promise<void> {
  await sup.start();
  const notRunning = [...sup.services.values()].filter((s) => s.state !== 'running');
  if (notRunning.length) throw new Error(`${notRunning.length} services did not start: ${notRunning[0].name}: ${notRunning[0].failure}`);
}

export async function measureReload(o: ReloadBenchOptions): Promise<ReloadBenchResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsvisor-bench-reload-'));
  const root = `/nsvisor-bench-${crypto.randomBytes(4).toString('hex')}`;
  const file = path.join(dir, 'nsvisor.yaml');
  const quiet = new EventLog(fs.createWriteStream('/dev/null'));
  let sup: Supervisor | null = null;
  const runs: Timed[] = [];
  const loadBefore = os.loadavg()[0];
  try {
    writeConfig(file, root, o.services);
    sup = new Supervisor(await loadConfig(file));
    sup.on('output', (_n, input) => void readInput(input));
    process.stderr.write(`reload: starting ${o.services} services\n`);
    await startAll(sup);
    const reloader = new Reloader(sup, file, quiet, { rebindMetrics: async () => undefined, hostProblems: reloadHostProblems, count: () => undefined });
    for (const [what, change] of [
      ['reload, one limit changed (in place)', { resources: { memory: '32Mi', pids: 16 } }],
      ['reload, one environment changed (stop, then start)', { env: { CHANGED: String(Date.now()) } }],
    ] as const) {
      writeConfig(file, root, o.services, change);
      const before = pidsOf(sup);
      const run = await timed(what, async () => {
        const r = await reloader.reload();
        if (r.status !== 'applied') throw new Error(`reload: ${JSON.stringify(r).slice(0, 400)}`);
        return same(before, pidsOf(sup!));
      });
      runs.push(run);
      process.stderr.write(`  ${what}: ${f2(run.seconds)} s, loop p99 ${f2(run.lagP99Ms)} ms\n`);
    }
    const full = await timed('full stop and start of the supervisor', async () => {
      await sup!.stop();
      sup = new Supervisor(await loadConfig(file));
      sup.on('output', (_n, input) => void readInput(input));
      await startAll(sup);
      return 0;
    });
    runs.push(full);
    process.stderr.write(`  ${full.what}: ${f2(full.seconds)} s, loop p99 ${f2(full.lagP99Ms)} ms\n`);
  } finally {
    process.stderr.write('reload: stopping and removing the cgroups\n');
    await sup?.stop();
    await closeCgroupPool();
    await closeConfigPool();
    await openCgroups({ root, prepare: false }).removeRoot();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const reloads = runs.slice(0, 2);
  return {
    services: o.services,
    layout: detectLayout().kind,
    runs,
    load: [loadBefore, os.loadavg()[0]],
    targets: [
      ...reloads.map((r) => ({ what: `${r.what}: wall time`, target: '< 1 s', value: `${f2(r.seconds)} s`, met: r.seconds < 1 })),
      ...reloads.map((r) => ({ what: `${r.what}: event loop p99`, target: '< 20 ms', value: `${f2(r.lagP99Ms)} ms`, met: r.lagP99Ms < 20 })),
      ...reloads.map((r) => ({ what: `${r.what}: unchanged services untouched`, target: `${o.services - 1} same pids`, value: String(r.samePids), met: r.samePids === o.services - 1 })),
    ],
  };
}

export function reloadMarkdown(r: ReloadBenchResult): string {
  return [
    ...pageOpening(`Reload of ${r.services} services, one changed`, r.layout),
    '',
    'In one process, as `nsvisor run` does it (the file read and validated, the plan, the host checks of the changed service, the',
    'steps), with the event loop\'s delay sampled every millisecond meanwhile; then every service stopped and started again, which is what',
    'a deploy costs without reload. Each service: `sleep 3600` in pid, mount, uts, ipc and cgroup namespaces with memory and pids limits.',
    `Load average (1 min) ${f2(r.load[0])} before, ${f2(r.load[1])} after, on ${os.cpus().length} CPUs.`,
    '',
    '| run | wall time | event loop p99 | max | unchanged services with the same pid |',
    '|---|---|---|---|---|',
    ...r.runs.map((x) => `| ${x.what} | ${f2(x.seconds)} s | ${f2(x.lagP99Ms)} ms | ${f2(x.lagMaxMs)} ms | ${x.what.startsWith('full') ? '-' : `${x.samePids} of ${r.services - 1}`} |`),
    '',
    '| target | wanted | measured | met |',
    '|---|---|---|---|',
    ...r.targets.map((t) => `| ${t.what} | ${t.target} | ${t.value} | ${t.met ? 'yes' : 'no'} |`),
  ].join('\n');
}
