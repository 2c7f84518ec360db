// A bounded HTTP load generator on loopback: a fresh connection per request or keep-alive connections, every failure counted by kind.
import * as http from 'http';

import { summarize, Summary } from './stats';

export interface LoadOptions {
  /** e.g. http://127.0.0.1:8080/work?ms=20 */
  url: string;
  /** Requests in flight at once. */
  concurrency: number;
  /** Upper bounds: the load ends at whichever comes first (or at stop()). */
  maxRequests: number;
  maxMs: number;
  /** Per-request timeout; a request slower than this counts as a failure. */
  timeoutMs: number;
  /** Reuse connections (one keep-alive agent, a socket per client) instead of a new connection per request. */
  keepAlive?: boolean;
}

export interface LoadResult {
  requests: number;
  ok: number;
  /** Failures by kind: ECONNREFUSED, ECONNRESET, timeout, HTTP 503... */
  failures: Record<string, number>;
  failed: number;
  /** Requests sent on a connection an earlier request had used (keep-alive). */
  reused: number;
  /** Distinct instances that answered (the example server reports when it started). */
  instances: string[];
  latencyMs: Summary & { max: number };
  seconds: number;
}

export interface LoadRun {
  /** Asks the workers to finish after their current request. */
  stop(): void;
  /** Distinct instances that answered so far. */
  seen(): number;
  done: Promise<LoadResult>;
}

interface Answer {
  ok: boolean;
  kind?: string;
  instance?: string;
  reused?: boolean;
}

function once(url: string, timeoutMs: number, agent: http.Agent | false): Promise<Answer> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, kind: e.code ?? e.message }));
      res.on('end', () => {
        if (res.statusCode !== 200) return resolve({ ok: false, kind: `HTTP ${res.statusCode}` });
        let instance: string | undefined;
        try {
          instance = JSON.parse(body).startedAt;
        } catch {
          return resolve({ ok: false, kind: 'bad body' });
        }
        resolve({ ok: true, instance, reused: req.reusedSocket });
      });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, kind: e.code ?? e.message }));
  });
}

/** Starts the load; `done` resolves once every worker has finished. */
export function startLoad(o: LoadOptions): LoadRun {
  const t0 = performance.now();
  let stopped = false;
  let issued = 0;
  const failures: Record<string, number> = {};
  const latencies: number[] = [];
  const instances = new Set<string>();
  const agent = o.keepAlive ? new http.Agent({ keepAlive: true, maxSockets: o.concurrency }) : false;
  let reused = 0;
  const worker = async () => {
    while (!stopped && issued < o.maxRequests && performance.now() - t0 < o.maxMs) {
      issued++;
      const start = performance.now();
      const r = await once(o.url, o.timeoutMs, agent);
      latencies.push(performance.now() - start);
      if (r.reused) reused++;
      if (r.ok) instances.add(r.instance!);
      else failures[r.kind!] = (failures[r.kind!] ?? 0) + 1;
    }
  };
  const done = Promise.all(Array.from({ length: o.concurrency }, worker)).then((): LoadResult => {
    if (agent) agent.destroy();
    const failed = Object.values(failures).reduce((a, b) => a + b, 0);
    return {
      requests: latencies.length,
      ok: latencies.length - failed,
      failures,
      failed,
      reused,
      instances: [...instances],
      latencyMs: { ...summarize(latencies.length ? latencies : [0]), max: Math.max(0, ...latencies) },
      seconds: (performance.now() - t0) / 1000,
    };
  });
  return { stop: () => (stopped = true), seen: () => instances.size, done };
}
