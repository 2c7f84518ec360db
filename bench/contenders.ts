// The contenders of the spawn-latency bench for one isolate set: the C floors, nsvisor's sandbox(), unshare and bwrap via child_process.
import * as fs from 'fs';

import { sandbox } from '../src';
import type { Namespace } from '../src/config/isolation';
import { initPath } from '../src/native';
import { FloorProcess } from './floor';
import { findExecutable, timeToExit } from './tools';

export type ContenderId = 'floor' | 'floorSteps' | 'nsvisor' | 'unshare' | 'bwrap';

export interface Contender {
  id: ContenderId;
  label: string;
  /** What runs, as a person would type it. */
  command: string;
  /** One spawn + run + exit + reap; the wall time in ms. */
  once(): Promise<number>;
  close(): Promise<void>;
}

/** A contender that could not run here, and why. */
export interface Skipped {
  id: ContenderId;
  label: string;
  reason: string;
}

export const LABELS: Record<ContenderId, string> = {
  floor: 'C floor (clone3 + exec + waitpid)',
  floorSteps: 'C + nsvisor steps + nsvisor-init',
  nsvisor: 'nsvisor sandbox()',
  unshare: 'unshare via child_process',
  bwrap: 'bwrap via child_process',
};

const devNull = fs.openSync('/dev/null', 'r+');

const done = () => Promise.resolve();

function floorContender(id: 'floor' | 'floorSteps', binary: string, ns: Namespace[]): Contender {
  const proc = new FloorProcess(binary, ns, id === 'floorSteps' ? initPath : undefined);
  const what = id === 'floor' ? '/bin/true' : `nsvisor-init -- /bin/true`;
  return {
    id,
    label: LABELS[id],
    command: `bench/build/floor ${ns.join(',')} → ${what}`,
    once: async () => (await proc.run(1))[0],
    close: () => proc.close(),
  };
}

function nsvisorContender(ns: Namespace[]): Contender {
  const mapRoot = ns.includes('user');
  return {
    id: 'nsvisor',
    label: LABELS.nsvisor,
    command: `sandbox({ command: ['/bin/true'], isolate: [${ns.join(',')}]${mapRoot ? ', mapRoot: true' : ''}, stdio: /dev/null x3 })`,
    once: async () => {
      const t0 = process.hrtime.bigint();
      const r = await sandbox({ command: ['/bin/true'], isolate: ns, mapRoot, stdio: [devNull, devNull, devNull] });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.reason !== 'completed') throw new Error(`nsvisor sandbox: ${r.reason}: ${r.error ?? `code ${r.code}, signal ${r.signal}`}`);
      return ms;
    },
    close: done,
  };
}

function unshareArgs(ns: Namespace[]): string[] {
  const args: string[] = [];
  if (ns.includes('pid')) args.push('--pid', '--fork');
  const flags: [Namespace, string[]][] = [
    ['mount', ['--mount']],
    ['uts', ['--uts']],
    ['ipc', ['--ipc']],
    ['cgroup', ['--cgroup']],
    ['net', ['--net']],
    ['user', ['--user', '--map-root-user']],
    ['time', ['--time']],
  ];
  for (const [n, f] of flags) if (ns.includes(n)) args.push(...f);
  if (ns.includes('time') && !ns.includes('pid')) args.push('--fork');
  return [...args, '/bin/true'];
}

/** bwrap always makes a mount namespace and has no time namespace option. */
function bwrapArgs(ns: Namespace[]): string[] {
  const all: Namespace[] = ['user', 'ipc', 'pid', 'net', 'uts', 'cgroup'];
  const args = all.every((n) => ns.includes(n))
    ? ['--unshare-all']
    : all.filter((n) => ns.includes(n)).map((n) => `--unshare-${n}`);
  return [...args, '--dev-bind', '/', '/', '/bin/true'];
}

function commandContender(id: 'unshare' | 'bwrap', file: string, args: string[]): Contender {
  return { id, label: LABELS[id], command: [id, ...args].join(' '), once: () => timeToExit(file, args), close: done };
}

/** Every contender for one namespace set; those whose tool is missing come back as skipped. */
export function contendersFor(ns: Namespace[], floorBinary: string): { contenders: Contender[]; skipped: Skipped[] } {
  const contenders: Contender[] = [floorContender('floor', floorBinary, ns), floorContender('floorSteps', floorBinary, ns), nsvisorContender(ns)];
  const skipped: Skipped[] = [];
  for (const [id, name, args] of [['unshare', 'unshare', unshareArgs(ns)], ['bwrap', 'bwrap', bwrapArgs(ns)]] as const) {
    const file = findExecutable(name);
    if (file) contenders.push(commandContender(id, file, [...args]));
    else skipped.push({ id, label: LABELS[id], reason: `${name} not installed, skipped` });
  }
  return { contenders, skipped };
}
