// The control API: HTTP/JSON over a unix socket (mode 0600) that `status`, `start`, `stop`, `restart`, `reload`, `logs` and `exec` talk to.
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as path from 'path';

import { ConfigError } from '../config/issues';
import { ReloadBusyError, ReloadResult } from '../reload/reloader';
import { UpgradeError } from './upgrade';
import { ScaleError, Supervisor, UnknownServiceError } from '../supervisor';
import { VERSION } from '../version';
import { describeService, describeWithStats } from './status';

/** When this program started: after an upgrade in place, the time of the execve, not that of the process. */
const PROGRAM_STARTED_AT = new Date(Date.now() - process.uptime() * 1000).toISOString();

/** What `logs` needs from the supervisor's log pipeline. */
export interface LogReader {
  tail(name: string, lines: number): Promise<string[]>;
  follow(name: string, onLine: (line: string) => void): () => void;
}

/** What the control API offers beyond the supervisor itself. */
export interface ControlExtras {
  logs: LogReader;
  /** Reloads `file` (null: the file the supervisor started with), or only plans it. */
  reload(file: string | null, dryRun: boolean): Promise<ReloadResult>;
  /** Checks the program on disk can take over (rejects with an UpgradeError), then gives what re-executes it, run once the answer is sent. */
  upgrade(): Promise<{ version: string; reexec: () => void }>;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, name: string, query: URLSearchParams) => Promise<void>;

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** Refuses to take over a socket another supervisor answers on; removes one left by a dead supervisor. */
async function claimSocket(socketPath: string): Promise<void> {
  fs.mkdirSync(path.dirname(socketPath), { recursive: true, mode: 0o700 });
  const alive = await new Promise<boolean>((resolve) => {
    const c = net.connect(socketPath, () => {
      c.destroy();
      resolve(true);
    });
    c.on('error', () => resolve(false));
  });
  if (alive) throw new Error(`another supervisor is running on ${socketPath}`);
  fs.rmSync(socketPath, { force: true });
}

export async function startControlServer(sup: Supervisor, socketPath: string, { logs, reload, upgrade }: ControlExtras): Promise<http.Server> {
  const verb = (fn: (name: string) => Promise<void>): Handler => async (_req, res, name) => {
    sup.service(name);
    await fn(name);
    send(res, 200, describeService(sup.service(name)));
  };
  const routes: Record<string, Handler> = {
    // The supervisor itself: its pid, the version of the program it runs, since when it runs that program.
    'GET supervisor': async (_req, res) => send(res, 200, { pid: process.pid, version: VERSION, startedAt: PROGRAM_STARTED_AT }),
    'GET status': async (_req, res, name) => {
      if (!name) return send(res, 200, await sup.describe());
      // NAME, or NAME.K: one instance of a service of several.
      const instance = /^(.+)\.(\d+)$/.exec(name);
      const service = sup.services.get(name) ?? (instance ? sup.services.get(instance[1]) : undefined) ?? sup.service(name);
      const status = (await describeWithStats([service]))[0];
      const row = service.name === name ? status : status.instances?.find((i) => i.name === name);
      if (!row) throw new UnknownServiceError(name);
      send(res, 200, row);
    },
    'POST start': verb((n) => sup.service(n).start()),
    'POST stop': verb((n) => sup.service(n).stop()),
    'POST restart': async (_req, res, name) => {
      const restart = await sup.service(name).restart();
      send(res, 200, { ...describeService(sup.service(name)), restart });
    },
    'POST restart-all': async (_req, res) => send(res, 200, await sup.restartAll()),
    'POST scale': async (_req, res, name, query) => {
      const n = Number(query.get('instances'));
      await sup.scale(name, n);
      send(res, 200, describeService(sup.service(name)));
    },
    'POST reload': async (_req, res, _name, query) => {
      try {
        send(res, 200, await reload(query.get('file'), query.get('dryRun') === '1'));
      } catch (e) {
        if (e instanceof ReloadBusyError) return send(res, 409, { error: e.message });
        if (e instanceof ConfigError) return send(res, 200, { status: 'invalid', file: null, problems: e.problems });
        throw e;
      }
    },
    'POST upgrade': async (_req, res) => {
      let next: Awaited<ReturnType<typeof upgrade>>;
      try {
        next = await upgrade();
      } catch (e) {
        if (e instanceof UpgradeError) return send(res, 409, { error: e.message });
        throw e;
      }
      res.once('finish', () => setImmediate(next.reexec));
      send(res, 200, { status: 'upgrading', pid: process.pid, version: next.version, from: VERSION });
    },
    'GET logs': async (req, res, name, query) => {
      sup.service(name);
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      for (const line of await logs.tail(name, Number(query.get('n') ?? 100))) res.write(`${line}\n`);
      if (query.get('follow') !== '1') return void res.end();
      const stop = logs.follow(name, (line) => res.write(`${line}\n`));
      req.on('close', stop);
    },
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://nsvisor');
    // /v1/<action>[/<service>]
    const [, version, action, name = ''] = url.pathname.split('/').map(decodeURIComponent);
    const handler = version === 'v1' ? routes[`${req.method} ${action}`] : undefined;
    if (!handler) return send(res, 404, { error: `no such endpoint: ${req.method} ${url.pathname}` });
    handler(req, res, name, url.searchParams).catch((e: Error) => {
      if (res.headersSent) return void res.end();
      send(res, e instanceof UnknownServiceError ? 404 : e instanceof ScaleError ? 400 : 500, { error: e.message });
    });
  });
  await claimSocket(socketPath);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socketPath, resolve));
  fs.chmodSync(socketPath, 0o600);
  return server;
}
