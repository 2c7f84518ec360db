// Bench part accept-spread: how connections spread over a service's instances, one shared accept queue against an SO_REUSEPORT socket per instance, in a throwaway network namespace.
import { execFileSync, spawn } from 'child_process';
import * as os from 'os';
import * as path from 'path';

import { AcceptSpreadOptions, Measured } from './accept-spread-measure';
import { machineInfo, othersCpuMeter } from './machine';

export interface AcceptSpreadResult extends Measured {
  machine: ReturnType<typeof machineInfo>;
  options: AcceptSpreadOptions;
  /** Other work on a shared machine: the 1-minute load average just before, and the CPUs others kept busy meanwhile. */
  loadAverageBefore: number;
  othersCpus: number;
  seconds: number;
}

const inside = path.join(__dirname, 'accept-spread-measure.js');

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Runs the measurement in the namespace (nsenter --net: the sysctls it sets are the namespace's own). */
function measureIn(ns: string, o: AcceptSpreadOptions): Promise<Measured> {
  const child = spawn('nsenter', [`--net=/run/netns/${ns}`, '--', process.execPath, inside, JSON.stringify(o)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => (code === 0 ? resolve(JSON.parse(out) as Measured) : reject(new Error(`accept-spread bench: exit ${code ?? signal}`))));
  });
}

export async function measureAcceptSpread(o: AcceptSpreadOptions): Promise<AcceptSpreadResult> {
  const ns = `nsvbench-accept-${process.pid}`;
  const loadAverageBefore = os.loadavg()[0];
  const others = othersCpuMeter();
  const t0 = performance.now();
  ip('netns', 'add', ns);
  try {
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    const measured = await measureIn(ns, o);
    return { machine: machineInfo(), options: o, loadAverageBefore, othersCpus: others(), seconds: (performance.now() - t0) / 1000, ...measured };
  } finally {
    ip('netns', 'del', ns);
  }
}
