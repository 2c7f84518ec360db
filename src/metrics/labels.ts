// Pure helpers for the metrics: the isolation label, the exported exit code, the limits a service asks for.
import * as os from 'os';

import { DEFAULT_ISOLATE } from '../config/isolation';
import { cpuQuota, CPU_PERIOD_US, Limits } from '../cgroup/limits';
import type { ExitRecord } from '../launch/exit-reason';

/** Config names of namespaces -> the kernel's (/proc/PID/ns): "mount" is "mnt". */
const KERNEL_NS: Record<string, string> = { mount: 'mnt' };

/** "cgroup,ipc,mnt,pid,uts": the namespaces a service gets, kernel names, sorted. */
export function isolationLabel(isolate: readonly string[] | undefined): string {
  return [...new Set(isolate ?? DEFAULT_ISOLATE)].map((n) => KERNEL_NS[n] ?? n).sort().join(',');
}

/** The exit status as a shell shows it: the code, or 128+N for signal N; null when neither is known. */
export function exitCodeValue(exit: Pick<ExitRecord, 'code' | 'signal'>): number | null {
  if (exit.code !== null) return exit.code;
  const n = exit.signal ? (os.constants.signals as Record<string, number>)[exit.signal] : undefined;
  return n === undefined ? null : 128 + n;
}

/** The limits of the configuration, as the spec gauges give them, for when no cgroup can be read. */
export function specOf(resources: Limits) {
  return {
    cpuQuotaSeconds: resources.cpus === undefined ? null : cpuQuota(resources.cpus).quota / 1e6,
    cpuPeriodSeconds: CPU_PERIOD_US / 1e6,
    memoryLimitBytes: resources.memory ?? 0,
    tasksLimit: resources.pids ?? 0,
  };
}
