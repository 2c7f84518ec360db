// Restarts under HTTP load: failed requests with zero-downtime restart against stop-then-start, side by side in one run.
import { spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { stringify } from 'yaml';

import { openCgroups } from '../src/cgroup';
import { request } from '../src/control/client';
import { LoadResult, startLoad } from './http-load';
import { exampleServer, exampleService, freePort } from './listen-example';
import { machineInfo } from './machine';

const cliPath = path.resolve(__dirname, '..', '..', 'bin', 'nsvisor');

export interface RestartLoadOptions {
  restarts: number;
  concurrency: number;
  /** Each request waits this long in the server: requests are in flight when a restart comes. */
  workMs: number;
  /** Load between two restarts. */
  gapMs: number;
}

interface Mode {
  name: string;
  how: string;
  service: (port: number) => Record<string, unknown>;
  /** The control requests of one restart. */
  steps: string[];
  /** The clients keep their connections open between requests. */
  keepAlive?: boolean;
}

const MODES: Mode[] = [
  {
    name: 'zero-downtime restart',
    how: '`nsvisor restart api`: held sockets, new instance ready before the old one drains',
    service: (port) => exampleService({ port }),
    steps: ['POST /v1/restart/api'],
  },
  {
    name: 'zero-downtime restart, keep-alive clients',
    how: 'the same, the clients reusing their connections; the old instance answers with `connection: close` and ends a connection once idle for a second',
    service: (port) => exampleService({ port }),
    steps: ['POST /v1/restart/api'],
    keepAlive: true,
  },
  {
    name: 'stop, then start',
    how: '`nsvisor stop api; nsvisor start api` of the same service: its sockets close while it is stopped',
    service: (port) => exampleService({ port }),
    steps: ['POST /v1/stop/api', 'POST /v1/start/api'],
  },
  {
    name: 'restart of a self-bound server',
    how: '`nsvisor restart api` of the server binding the port itself (no `listen`), as under PM2 fork mode or supervisord',
    service: (port) => ({ command: [process.execPath, exampleServer], env: { PORT: String(port) }, isolate: ['pid', 'mount', 'uts', 'ipc', 'cgroup'], mounts: [{ type: 'tmpfs', target: '/tmp' }], ready: { exec: ['test', '-e', '/tmp/ready'], timeout: '60s' }, stop: { timeout: '20s' } }),
    steps: ['POST /v1/restart/api'],
  },
];

export interface ModeResult {
  name: string;
  how: string;
  restarts: number;
  load: LoadResult;
}

export interface RestartLoadResult {
  machine: ReturnType<typeof machineInfo>;
  options: RestartLoadOptions;
  modes: ModeResult[];
}

async function control(socket: string, step: string): Promise<void> {
  const [method, url] = step.split(' ');
  const r = await request(socket, method, url);
  if (r.status !== 200) throw new Error(`${step}: ${JSON.stringify(r.body)}`);
}

async function waitRunning(socket: string, deadline: number): Promise<void> {
  for (;;) {
    try {
      const r = await request(socket, 'GET', '/v1/status/api');
      if (r.body?.state === 'running') return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error('the api service did not come up');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One mode: a fresh supervisor, the load, `restarts` restarts spaced by gapMs, then a clean shutdown. */
async function measureMode(mode: Mode, o: RestartLoadOptions): Promise<ModeResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsvisor-bench-restart-'));
  const root = `/nsvisor-bench-${crypto.randomBytes(4).toString('hex')}`;
  const socket = path.join(dir, 'control.sock');
  const port = await freePort();
  const config = { supervisor: { control: socket, logDir: path.join(dir, 'logs'), metrics: 'off', cgroupRoot: root }, services: { api: mode.service(port) } };
  fs.writeFileSync(path.join(dir, 'nsvisor.yaml'), stringify(config));
  const child = spawn(process.execPath, [cliPath, 'run', '-c', path.join(dir, 'nsvisor.yaml')], { stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', r));
  try {
    await waitRunning(socket, Date.now() + 60_000);
    const load = startLoad({ url: `http://127.0.0.1:${port}/work?ms=${o.workMs}`, concurrency: o.concurrency, maxRequests: 10_000_000, maxMs: 600_000, timeoutMs: 10_000, keepAlive: mode.keepAlive });
    for (let i = 0; i < o.restarts; i++) {
      await new Promise((r) => setTimeout(r, o.gapMs));
      for (const step of mode.steps) await control(socket, step);
    }
    await new Promise((r) => setTimeout(r, o.gapMs));
    load.stop();
    return { name: mode.name, how: mode.how, restarts: o.restarts, load: await load.done };
  } finally {
    child.kill('SIGTERM');
    await exited;
    await openCgroups({ root }).removeRoot();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function measureRestartLoad(o: RestartLoadOptions): Promise<RestartLoadResult> {
  const modes: ModeResult[] = [];
  for (const mode of MODES) {
    process.stderr.write(`  ${mode.name}\n`);
    modes.push(await measureMode(mode, o));
  }
  return { machine: machineInfo(), options: o, modes };
}

export function restartLoadMarkdown(r: RestartLoadResult): string {
  const o = r.options;
  const failures = (l: LoadResult) => (l.failed ? Object.entries(l.failures).map(([k, n]) => `${n} ${k}`).join(', ') : '0');
  return [
    `## Restarts under load (${o.restarts} restarts, ${o.concurrency} clients, each request ${o.workMs} ms of work on a new connection unless the mode says keep-alive)`,
    '',
    '| mode | requests | on reused connections | failed | failures by kind | p99 ms | max ms |',
    '|---|---|---|---|---|---|---|',
    ...r.modes.map((m) => `| ${m.name} | ${m.load.requests} | ${m.load.reused} | ${m.load.failed} | ${failures(m.load)} | ${m.load.latencyMs.p99.toFixed(1)} | ${m.load.latencyMs.max.toFixed(1)} |`),
    '',
    ...r.modes.map((m) => `- ${m.name}: ${m.how}.`),
    '',
    `Target: zero failed requests with zero-downtime restart. Machine: ${r.machine.cpus} × ${r.machine.cpuModel}, kernel ${r.machine.kernel}.`,
  ].join('\n');
}
