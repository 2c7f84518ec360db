// A real Prometheus (Debian's package) inside a test's network namespace: temp config and TSDB, reached through a unix-socket proxy there.
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';

import { SLOWDOWN, waitFor } from './helpers';

export const PROMETHEUS = '/usr/bin/prometheus';

export const hasPrometheus = () => spawnSync(PROMETHEUS, ['--version']).status === 0;

/** A process started in the namespace with nsenter (which execs it: the pid is the process's own). */
function inNetns(netns: string, argv: string[]): { child: ChildProcess; out: () => string } {
  const child = spawn('nsenter', [`--net=/run/netns/${netns}`, '--', ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (d) => (text += d));
  child.stderr!.on('data', (d) => (text += d));
  return { child, out: () => text };
}

async function end(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000 * SLOWDOWN);
  await gone;
  clearTimeout(timer);
}

export interface Answer {
  status: number;
  body: string;
}

export class NetnsPrometheus {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsvtest-prometheus-'));
  readonly port = 20_000 + Math.floor(Math.random() * 40_000);
  /**
   * Seconds between scrapes, and each scrape's timeout: 1 on the host; under emulation (v2vm) a scrape can take
   * longer than a second, and a timed-out scrape marks every series stale, so there it is 5.
   */
  readonly interval = Math.min(SLOWDOWN, 5);
  private readonly socket = path.join(this.dir, 'proxy.sock');
  private proxy?: ReturnType<typeof inNetns>;
  private server?: ReturnType<typeof inNetns>;

  constructor(private readonly netns: string) {}

  /** Starts the proxy and Prometheus scraping 127.0.0.1:`target` every `interval` seconds as job `job`; resolves once it is ready. */
  async start(job: string, target: number): Promise<void> {
    this.proxy = inNetns(this.netns, [process.execPath, path.join(__dirname, 'netns-http-proxy.js'), this.socket]);
    await waitFor(`the proxy (${this.proxy.out()})`, () => /proxy ready/.test(this.proxy!.out()));
    const config = path.join(this.dir, 'prometheus.yml');
    fs.writeFileSync(config, [
      `global: { scrape_interval: ${this.interval}s, scrape_timeout: ${this.interval}s, evaluation_interval: ${this.interval}s }`,
      'scrape_configs:',
      `  - job_name: ${job}`,
      `    static_configs: [{ targets: ['127.0.0.1:${target}'] }]`,
      '',
    ].join('\n'));
    this.server = inNetns(this.netns, [
      PROMETHEUS, `--config.file=${config}`, `--storage.tsdb.path=${path.join(this.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${this.port}`, '--log.level=warn',
    ]);
    const deadline = Date.now() + 30_000 * SLOWDOWN;
    while ((await this.get('/-/ready').catch(() => null))?.status !== 200) {
      if (this.server.child.exitCode !== null || Date.now() > deadline) throw new Error(`prometheus did not get ready: ${this.server.out()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** GET `url` of a server listening on 127.0.0.1:`port` in the namespace (Prometheus by default). */
  get(url: string, port = this.port): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = http.request({ socketPath: this.socket, path: url, headers: { 'x-port': String(port) } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  /** A call of the HTTP API; throws unless it succeeded. */
  async api(endpoint: string, params: Record<string, string | number>): Promise<any> {
    const q = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]));
    const a = await this.get(`/api/v1/${endpoint}?${q}`);
    const json = JSON.parse(a.body);
    if (a.status !== 200 || json.status !== 'success') throw new Error(`${endpoint} ${JSON.stringify(params)}: ${a.status} ${a.body}`);
    return json.data;
  }

  /** The last log lines, for a failed assertion. */
  log(): string {
    return this.server?.out().slice(-2000) ?? '';
  }

  /** Ends Prometheus and the proxy (by their pids) and removes the config and the TSDB. */
  async stop(): Promise<void> {
    for (const p of [this.server, this.proxy]) if (p) await end(p.child);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
