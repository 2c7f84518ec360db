// The accept-spread measurement, run inside the bench's own network namespace: both modes side by side under load, steady and while instances change; prints JSON.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { Deployment, Mode } from './accept-spread-deployment';
import { LoadResult, startLoad } from './http-load';

export interface AcceptSpreadOptions {
  /** Rounds of the whole set of cases, the modes' order alternating between rounds. */
  runs: number;
  instances: number;
  /** Load per steady cell. */
  cellMs: number;
  /** CPU time of one "spin" request in the server. */
  spinMs: number;
  /** Clients of the load while instances change (a new connection per request). */
  changeClients: number;
}

export type Request = 'light' | 'spin';

export interface Cell {
  connection: 'new' | 'keep-alive';
  clients: number;
  request: Request;
}

/** How evenly the requests of one run spread over the instances. */
export interface Spread {
  /** Requests per instance, most first (an instance that answered none counts as 0). */
  counts: number[];
  /** max / min; null when an instance answered none. */
  ratio: number | null;
  /** Coefficient of variation: standard deviation / mean. */
  cv: number;
}

/** What one load run saw. */
export interface RunResult {
  requests: number;
  perSecond: number;
  failed: number;
  failures: Record<string, number>;
  p50: number;
  p99: number;
  max: number;
}

export interface SteadyResult extends Cell {
  mode: Mode;
  runs: Array<RunResult & Spread>;
}

export interface ChangeCase {
  change: 'rolling replacement' | 'scale-down' | 'stall';
  mode: Mode;
  /** net.ipv4.tcp_migrate_req in the namespace during the change (it only matters to reuseport). */
  migrateReq?: 0 | 1;
  request: Request;
}

export interface ChangeResult extends ChangeCase {
  /** Why the case could not run here. */
  skipped?: string;
  runs: Array<RunResult & { changeSeconds: number }>;
}

export interface Measured {
  steady: SteadyResult[];
  changes: ChangeResult[];
}

const MIGRATE_REQ = '/proc/sys/net/ipv4/tcp_migrate_req';
const PORTS: Record<Mode, number> = { shared: 8001, reuseport: 8002 };
/** Load before and after a change, so that it happens under steady load. */
const AROUND_CHANGE_MS = 700;
/** How long a stalled instance stays stopped. */
const STALL_MS = 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function spread(perInstance: Record<string, number>, instances: number): Spread {
  const counts = Object.values(perInstance).sort((a, b) => b - a);
  while (counts.length < instances) counts.push(0);
  const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
  const sd = Math.sqrt(counts.reduce((a, c) => a + (c - mean) ** 2, 0) / counts.length);
  const min = counts[counts.length - 1];
  return { counts, ratio: min === 0 ? null : counts[0] / min, cv: mean ? sd / mean : 0 };
}

function runResult(l: LoadResult): RunResult {
  return { requests: l.requests, perSecond: l.requests / l.seconds, failed: l.failed, failures: l.failures, p50: l.latencyMs.p50, p99: l.latencyMs.p99, max: l.latencyMs.max };
}

function url(d: Deployment, request: Request, o: AcceptSpreadOptions): string {
  return `http://127.0.0.1:${d.port}${request === 'spin' ? `/spin?ms=${o.spinMs}` : '/'}`;
}

function load(d: Deployment, cell: Cell, o: AcceptSpreadOptions, maxMs: number) {
  return startLoad({ url: url(d, cell.request, o), concurrency: cell.clients, keepAlive: cell.connection === 'keep-alive', maxRequests: 1e9, maxMs, timeoutMs: 10_000 });
}

const CELLS: Cell[] = (['new', 'keep-alive'] as const).flatMap((connection) =>
  [8, 64].flatMap((clients) => (['light', 'spin'] as const).map((request) => ({ connection, clients, request }))),
);

const CHANGES: ChangeCase[] = (['light', 'spin'] as const).flatMap((request) => [
  { change: 'rolling replacement' as const, mode: 'shared' as const, request },
  { change: 'rolling replacement' as const, mode: 'reuseport' as const, request },
  { change: 'scale-down' as const, mode: 'shared' as const, request },
  { change: 'scale-down' as const, mode: 'reuseport' as const, migrateReq: 0 as const, request },
  { change: 'scale-down' as const, mode: 'reuseport' as const, migrateReq: 1 as const, request },
  { change: 'stall' as const, mode: 'shared' as const, request },
  { change: 'stall' as const, mode: 'reuseport' as const, request },
]);

/**
 * One change under load (a new connection per request): every position replaced in turn; the last one removed (and
 * put back after); or the last one's instance stalled for STALL_MS.
 */
async function measureChange(d: Deployment, c: ChangeCase, o: AcceptSpreadOptions) {
  if (c.migrateReq !== undefined && fs.existsSync(MIGRATE_REQ)) fs.writeFileSync(MIGRATE_REQ, String(c.migrateReq));
  const traffic = load(d, { connection: 'new', clients: o.changeClients, request: c.request }, o, 120_000);
  await sleep(AROUND_CHANGE_MS);
  const t0 = performance.now();
  if (c.change === 'scale-down') await d.scaleDown();
  else if (c.change === 'stall') await d.stall(STALL_MS);
  else for (let i = 0; i < d.instances.length; i++) await d.replace(i);
  const changeSeconds = (performance.now() - t0) / 1000;
  await sleep(AROUND_CHANGE_MS);
  traffic.stop();
  const result = { ...runResult(await traffic.done), changeSeconds };
  if (c.change === 'scale-down') await d.scaleUp();
  return result;
}

export async function measureInside(o: AcceptSpreadOptions): Promise<Measured> {
  const readyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsvisor-bench-accept-'));
  const deployments: Deployment[] = [];
  try {
    for (const mode of ['shared', 'reuseport'] as const) deployments.push(await Deployment.start(mode, PORTS[mode], o.instances, readyDir));
    // Warm up the servers' JIT and the namespace's TCP state on both kinds of request.
    for (const d of deployments) for (const request of ['light', 'spin'] as const) await load(d, { connection: 'new', clients: 8, request }, o, 500).done;
    const key = (mode: Mode, c: Cell) => `${mode} ${c.connection} ${c.clients} ${c.request}`;
    const steady = new Map<string, SteadyResult>(deployments.flatMap((d) => CELLS.map((cell) => [key(d.mode, cell), { mode: d.mode, ...cell, runs: [] }])));
    const migrateReqHere = fs.existsSync(MIGRATE_REQ);
    const changes: ChangeResult[] = CHANGES.map((c) =>
      c.migrateReq && !migrateReqHere ? { ...c, skipped: `${MIGRATE_REQ} does not exist: kernel ${os.release()} is older than 5.14`, runs: [] } : { ...c, runs: [] },
    );
    for (let run = 0; run < o.runs; run++) {
      const order = run % 2 ? [...deployments].reverse() : deployments;
      process.stderr.write(`  run ${run + 1}/${o.runs}\n`);
      for (const cell of CELLS) {
        for (const d of order) {
          const l = await load(d, cell, o, o.cellMs).done;
          steady.get(key(d.mode, cell))!.runs.push({ ...runResult(l), ...spread(l.perInstance, o.instances) });
        }
      }
      for (const c of changes) if (!c.skipped) c.runs.push(await measureChange(deployments.find((d) => d.mode === c.mode)!, c, o));
    }
    return { steady: [...steady.values()], changes };
  } finally {
    for (const d of deployments) await d.end();
    fs.rmSync(readyDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  measureInside(JSON.parse(process.argv[2])).then(
    (r) => process.stdout.write(JSON.stringify(r)),
    (e: Error) => {
      process.stderr.write(`${e.stack ?? e.message}\n`);
      process.exit(1);
    },
  );
}
