// What the results were measured on: date, kernel (uname -r), node, cpus, and the versions of the tools compared.
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
