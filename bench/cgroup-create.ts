// Creating a cgroup with its limits on the event loop (as nsvisor does) against on a worker thread, alone and while another process creates and removes cgroups.
import { spawn } from 'child_process';
import * as path from 'path';
import { monitorEventLoopDelay } from 'perf_hooks';
import { Piscina } from 'piscina';

import type { CgroupDriver } from '../src/cgroup';
import type { CreateTask } from './cgroup-create-task';
import { f2, lagOf } from './cgroup-bench';
import { summarize, Summary } from './stats';

export interface CreationRow {
  where: 'event loop' | 'pool';
  contended: boolean;
  /** Wall time of one create, ms (on the event loop: how long the loop is blocked). */
  ms: Summary;
  /** The loop's delay meanwhile, ms. */
  lag: { p50: number; p99: number; max: number };
}

const LIMITS = { memory: 256 << 20, pids: 100, cpus: 0.5 };
const TASK_FILE = path.join(__dirname, 'cgroup-create-task.js');

/** Times fn once per item (ms), letting the loop run timers between items; and the loop's delay meanwhile. */
async function timeEach(n: number, fn: (i: number) => unknown): Promise<{ ms: Summary; lag: CreationRow['lag'] }> {
  const ms: number[] = [];
  const lag = monitorEventLoopDelay({ resolution: 1 });
  lag.enable();
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn(i);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    await new Promise((r) => setImmediate(r));
  }
  lag.disable();
  return { ms: summarize(ms), lag: lagOf(lag) };
}

/** A shell loop making and removing a child of each of `dirs` (a cgroup of the bench's own root) until stopped. */
async function contend(dirs: string[]): Promise<() => Promise<void>> {
  const loop = dirs.map((d) => `mkdir ${d}/c 2>/dev/null; rmdir ${d}/c 2>/dev/null;`).join(' ');
  const child = spawn('sh', ['-c', `while :; do ${loop} done`], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 200));
  return async () => {
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  };
}

/** `count` cgroups created in four equal parts: on the loop and on a worker thread, each alone and contended. */
export async function measureCreation(driver: CgroupDriver, count: number): Promise<CreationRow[]> {
  const part = Math.floor(count / 4);
  const pool = new Piscina({ filename: TASK_FILE, minThreads: 1, maxThreads: 1 });
  const onPool = (name: string) => pool.run({ layout: driver.layout, root: driver.root, name, limits: LIMITS } satisfies CreateTask);
  const rows: CreationRow[] = [];
  const both = async (contended: boolean, prefix: string) => {
    rows.push({ where: 'event loop', contended, ...(await timeEach(part, (i) => driver.create(`${prefix}-loop-${i}`, LIMITS))) });
    rows.push({ where: 'pool', contended, ...(await timeEach(part, (i) => onPool(`${prefix}-pool-${i}`))) });
  };
  let stop = async () => {};
  try {
    await onPool('warm-up'); // the thread has loaded the task
    await both(false, 'alone');
    stop = await contend(driver.create('contender', {}).dirs);
    await both(true, 'contended');
  } finally {
    await stop();
    await pool.destroy();
  }
  return rows;
}

/** The markdown table rows of the creation measurements. */
export function creationMarkdown(rows: CreationRow[]): string[] {
  return rows.map(
    (r) =>
      `| create one cgroup with its limits ${r.where === 'pool' ? 'on a worker thread (piscina)' : 'on the event loop, as nsvisor does'}` +
      `${r.contended ? ', another process creating and removing cgroups' : ''} | ${f2(r.ms.p50)} | ${f2(r.ms.p99)} | ${f2(r.lag.p50)} | ${f2(r.lag.p99)} |`,
  );
}
