// What the two cgroup-backed benches share: a throwaway /nsvisor-bench-* root with a stats pool, the loop-lag figures and the page's opening lines.
import * as crypto from 'crypto';
import { monitorEventLoopDelay } from 'perf_hooks';

import { CgroupDriver, openCgroups, CgroupPool } from '../src/cgroup';
import { machineInfo } from './machine';

export const f2 = (v: number) => v.toFixed(2);

/** An event-loop delay histogram's figures in ms. */
export function lagOf(h: ReturnType<typeof monitorEventLoopDelay>): { p50: number; p99: number; max: number } {
  return { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 };
}

/** Runs `fn` with a fresh cgroup root and a stats pool; the pool is closed and every cgroup removed afterwards, whatever happened. */
export async function withBenchCgroups<T>(
  label: string,
  pool: CgroupPool,
  fn: (driver: CgroupDriver, root: string) => Promise<T>,
): Promise<T> {
  const root = `/nsvisor-bench-${crypto.randomBytes(4).toString('hex')}`;
  const driver = openCgroups({ root });
  try {
    return await fn(driver, root);
  } finally {
    await pool.close();
    process.stderr.write(`${label}: removing the cgroups\n`);
    await driver.removeRoot();
  }
}

/** A result page's title and the line saying what it was measured on. */
export function pageOpening(title: string, layout: string): string[] {
  const m = machineInfo();
  return [`# ${title}`, '', `${m.date}, kernel ${m.kernel}, node ${m.node}, ${m.cpus} cpus (${m.cpuModel}); layout ${layout}.`];
}
