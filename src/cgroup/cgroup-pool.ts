// Collects cgroup stats on a piscina pool of worker threads, in batches, so the event loop stays free.
import * as os from 'os';
import * as path from 'path';
import { Piscina } from 'piscina';

import type { StatsTarget } from './driver';
import type { CgroupStats } from './stats';

const TASK_FILE = path.resolve(__dirname, '..', 'workers', 'cgroup-stats.js');

/** A worker ends after this long without a task. */
const IDLE_MS = 10_000;

export interface CgroupPoolOptions {
  /** Worker threads; default min(2, CPUs). */
  threads?: number;
  /** Cgroups per task; default 50. */
  batch?: number;
}

export class CgroupPool {
  private readonly pool: Piscina;
  private readonly batch: number;

  constructor(opts: CgroupPoolOptions = {}) {
    const threads = opts.threads ?? Math.max(1, Math.min(2, os.availableParallelism()));
    // No thread kept while nothing reads stats: each holds a V8 isolate (~10 MB resident); a status or a scrape starts them again.
    // trackUnmanagedFds off: the files a worker opens for HeldFiles belong to the supervisor from then on. Node's
    // default closes them when that worker ends (idle, or the pool's end) behind HeldFiles' back, which then reads and
    // at last closes fd numbers given to something else since (a new worker's epoll fd: libuv aborts, or spins).
    this.pool = new Piscina({ filename: TASK_FILE, minThreads: 0, maxThreads: threads, idleTimeout: IDLE_MS, trackUnmanagedFds: false });
    this.batch = opts.batch ?? 50;
  }

  /** Stats of each target, in order. */
  async collect(targets: StatsTarget[]): Promise<CgroupStats[]> {
    const tasks: Promise<CgroupStats[]>[] = [];
    for (let i = 0; i < targets.length; i += this.batch) tasks.push(this.pool.run(targets.slice(i, i + this.batch)));
    return (await Promise.all(tasks)).flat();
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

let shared: CgroupPool | null = null;

/** The process-wide pool (created on first use). */
export function cgroupPool(): CgroupPool {
  shared ??= new CgroupPool();
  return shared;
}

/** Ends the process-wide pool, if any (tests, shutdown). */
export async function closeCgroupPool(): Promise<void> {
  const p = shared;
  shared = null;
  await p?.close();
}
