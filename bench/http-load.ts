// A bounded HTTP load generator on loopback: a fresh connection per request, every failure counted by kind.
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
}

export interface LoadResult {
  requests: number;
  ok: number;
  /** Failures by kind: ECONNREFUSED, ECONNRESET, timeout, HTTP 503... */
  failures: Record<string, number>;
  failed: number;
  /** Distinct instances that answered (the example server reports when it started). */
  instances: string[];
  latencyMs: Summary & { max: number };
  seconds: number;
}

export interface LoadRun {
  /** Asks the workers to finish after their current request. */
  stop(): void;
  done: Promise<LoadResult>;
}

function once(url: string, timeoutMs: number): Promise<{ ok: boolean; kind?: string; instance?: string }> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
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
        resolve({ ok: true, instance });
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
  const worker = async () => {
    while (!stopped && issued < o.maxRequests && performance.now() - t0 < o.maxMs) {
      issued++;
      const start = performance.now();
      const r = await once(o.url, o.timeoutMs);
      latencies.push(performance.now() - start);
      if (r.ok) instances.add(r.instance!);
      else failures[r.kind!] = (failures[r.kind!] ?? 0) + 1;
    }
  };
  const done = Promise.all(Array.from({ length: o.concurrency }, worker)).then((): LoadResult => {
    const failed = Object.values(failures).reduce((a, b) => a + b, 0);
    return {
      requests: latencies.length,
      ok: latencies.length - failed,
      failures,
      failed,
      instances: [...instances],
      latencyMs: { ...summarize(latencies.length ? latencies : [0]), max: Math.max(0, ...latencies) },
      seconds: (performance.now() - t0) / 1000,
    };
  });
  return { stop: () => (stopped = true), done };
}
