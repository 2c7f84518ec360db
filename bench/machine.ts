// What the results were measured on: date, kernel (uname -r), node, cpus, and the versions of the tools compared.
import * as fs from 'fs';
import * as os from 'os';

import { findExecutable, versionOf } from './tools';

export interface MachineInfo {
  date: string;
  kernel: string;
  node: string;
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  tools: Record<'unshare' | 'bwrap' | 'tini' | 'cc', string | null>;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  const tool = (name: string) => versionOf(findExecutable(name));
  return {
    date: new Date().toISOString(),
    kernel: os.release(),
    node: process.version,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    tools: { unshare: tool('unshare'), bwrap: tool('bwrap'), tini: tool('tini'), cc: tool('cc') },
  };
}

/** The unit of /proc/stat. */
const USER_HZ = 100;

/** Busy and total CPU time of the whole machine so far, in clock ticks (/proc/stat). */
function machineTicks(): { busy: number; total: number } {
  const [, ...fields] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = fields.map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

/** CPU seconds of this process's children that ended and were waited for (with their own reaped descendants). */
function reapedChildrenSeconds(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  // The fields after "pid (comm) " start at the third, state: cutime and cstime are the 16th and 17th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / USER_HZ;
}

/**
 * On a shared machine: starts measuring how many CPUs other processes kept busy; the returned function says
 * it for the time since (the machine's busy time less this process's, all its threads, and that of its children
 * that ended meanwhile).
 */
export function othersCpuMeter(): () => number {
  const t0 = machineTicks();
  const ours0 = process.cpuUsage();
  const children0 = reapedChildrenSeconds();
  return () => {
    const t1 = machineTicks();
    const ours = process.cpuUsage(ours0);
    const oursSeconds = (ours.user + ours.system) / 1e6 + reapedChildrenSeconds() - children0;
    const cpus = os.cpus().length;
    const wallSeconds = Math.max(1, t1.total - t0.total) / cpus / USER_HZ;
    const busyCpus = (t1.busy - t0.busy) / USER_HZ / wallSeconds;
    return Math.max(0, busyCpus - oursSeconds / wallSeconds);
  };
}
