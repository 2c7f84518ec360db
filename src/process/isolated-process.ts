// Starts a SpawnPlan through the addon and tracks the result: id maps, the go byte, the status pipe, the pidfd.
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';

import type { Placement } from '../cgroup/driver';
import { addon, SpawnedChild } from '../native';
import type { SpawnPlan } from '../spec/spawn-spec';
import { disown, own } from './owned-pids';
import { exitCodeFor, SpawnError } from './spawn-error';
import { decodeRecords, StatusRecord } from './status-records';

export interface ExitStatus {
  /** Exit code of nsvisor-init: the main process's code, or 128+N when it was killed by signal N. */
  code: number | null;
  /** Set when nsvisor-init itself was killed. */
  signal: NodeJS.Signals | null;
  /** How the main process ended, as nsvisor-init reported it; null when it could not (killed, or never ran the command). */
  main: { code: number | null; signal: NodeJS.Signals | null } | null;
}

/** A running service instance: nsvisor-init and everything under it. */
export class IsolatedProcess {
  private ended = false;

  constructor(
    /** Host pid of nsvisor-init (PID 1 inside when pid is isolated). */
    readonly pid: number,
    private readonly pidfd: number,
    /** Resolves when nsvisor-init has exited and been reaped. */
    readonly exited: Promise<ExitStatus>,
  ) {
    void exited.then(() => (this.ended = true));
  }

  /** Sends a signal to nsvisor-init, which forwards it; false once the process is gone. */
  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    if (this.ended) return false;
    const n = typeof signal === 'number' ? signal : os.constants.signals[signal];
    return addon.sendSignal(this.pidfd, n);
  }
}

function signalName(n: number | null): NodeJS.Signals | null {
  if (n === null) return null;
  const entry = Object.entries(os.constants.signals).find(([, v]) => v === n);
  return (entry?.[0] as NodeJS.Signals) ?? null;
}

/** Writes the user namespace maps of `pid` (setgroups first, then gid_map, then uid_map; one write each). */
function writeIdMaps(pid: number, plan: SpawnPlan): void {
  const maps = plan.idMaps;
  if (!maps) return;
  const files: [string, string | null][] = [
    ['setgroups', maps.setgroups],
    ['gid_map', maps.gidMap],
    ['uid_map', maps.uidMap],
  ];
  for (const [file, text] of files) {
    if (text === null) continue;
    try {
      fs.writeFileSync(`/proc/${pid}/${file}`, text);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new SpawnError(`write /proc/PID/${file}`, text.trim().replace(/\n/g, ', '), os.constants.errno[err.code as keyof typeof os.constants.errno] ?? 0, 125);
    }
  }
}

/** Opens the cgroup2 directory the child is cloned into (CLONE_INTO_CGROUP). */
function openCgroupDir(dir: string): number {
  try {
    return fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  } catch (e) {
    throw new SpawnError('open', dir, errnoOf(e), 125);
  }
}

function errnoOf(e: unknown): number {
  return os.constants.errno[(e as NodeJS.ErrnoException).code as keyof typeof os.constants.errno] ?? 0;
}

/** v1: the parent moves the child into each controller's cgroup while it waits for the go byte. */
function writeCgroupProcs(pid: number, placement: Placement | undefined): void {
  for (const file of placement?.procsFiles ?? []) {
    try {
      fs.writeFileSync(file, String(pid));
    } catch (e) {
      throw new SpawnError('write cgroup.procs', file, errnoOf(e), 125);
    }
  }
}

/** What a failed step was working on, in the user's words. */
function subjectOf(plan: SpawnPlan, rec: Extract<StatusRecord, { kind: 'error' }>): string | null {
  const r = plan.request;
  if (rec.index >= 0) return plan.mountTargets[rec.index] ?? null;
  switch (rec.step) {
    case 'mount(rootfs, MS_BIND)':
    case 'chdir(rootfs)':
    case 'pivot_root':
      return r.rootfs;
    case 'chdir':
      return r.cwd;
    case 'sethostname':
      return r.hostname;
    case 'setdomainname':
      return r.domainname;
    case 'execve':
      return r.argv[r.argv.indexOf('--') + 1];
    default:
      return null;
  }
}

interface StatusListeners {
  onInitStarted(): void;
  onReaped(count: number): void;
  onMainExit(rec: Extract<StatusRecord, { kind: 'mainExit' }>): void;
}

/**
 * Reads the status pipe. `outcome` resolves with null once the command runs (nsvisor-init says so, or the pipe
 * closes without an error), else with the first error record. The pipe is read on until nsvisor-init exits
 * (`closed`): its reaped-orphan counts and the main process's end go to the listeners.
 */
function readStatus(child: SpawnedChild, on: StatusListeners) {
  const pipe = new net.Socket({ fd: child.statusFd, readable: true, writable: false });
  const closed = new Promise<void>((resolve) => pipe.once('close', () => resolve()));
  const outcome = new Promise<Extract<StatusRecord, { kind: 'error' }> | null>((resolve, reject) => {
    let pending: Buffer = Buffer.alloc(0);
    let failure: Extract<StatusRecord, { kind: 'error' }> | null = null;
    pipe.on('data', (chunk: Buffer) => {
      const { records, rest } = decodeRecords(Buffer.concat([pending, chunk]));
      pending = rest;
      for (const rec of records) {
        if (rec.kind === 'initStarted') on.onInitStarted();
        else if (rec.kind === 'execOk') resolve(null);
        else if (rec.kind === 'reaped') on.onReaped(rec.count);
        else if (rec.kind === 'mainExit') on.onMainExit(rec);
        else failure ??= rec;
      }
    });
    pipe.on('error', reject);
    void closed.then(() => resolve(failure));
  });
  return { outcome, closed };
}

/**
 * Starts the plan. Resolves once the service command has been executed, with the running process;
 * rejects with a SpawnError after everything the attempt created has ended.
 */
export interface StartHooks {
  /** Runs once the child exists in its namespaces and before it goes on: moves in its network. May throw. */
  beforeGo?(pid: number): void | Promise<void>;
  /** Orphans nsvisor-init reaped, reported in batches while the instance runs. */
  onReaped?(count: number): void;
}

/** An addon failure ({syscall, errno}) as a SpawnError; anything else as it is. */
function asSpawnError(e: unknown): unknown {
  const err = e as Error & { syscall?: string; errno?: number };
  if (e instanceof SpawnError || typeof err.syscall !== 'string' || typeof err.errno !== 'number') return e;
  return new SpawnError(err.syscall, null, err.errno, 125);
}

export async function startIsolated(plan: SpawnPlan, placement?: Placement, hooks: StartHooks = {}): Promise<IsolatedProcess> {
  let child: SpawnedChild;
  const cgroupFd = placement?.cloneInto ? openCgroupDir(placement.cloneInto) : null;
  try {
    child = addon.spawn({ ...plan.request, cgroupFd });
  } catch (e) {
    const err = e as Error & { syscall?: string; errno?: number };
    const syscall = err.syscall ?? 'clone3';
    throw new SpawnError(syscall, syscall === 'clone3' && cgroupFd !== null ? `CLONE_INTO_CGROUP ${placement!.cloneInto}` : null, err.errno ?? 0, 125);
  } finally {
    if (cgroupFd !== null) fs.closeSync(cgroupFd);
  }
  let released = false;
  const release = () => {
    if (!released) child.job.release();
    released = true;
  };
  own(child.pid);
  let main: ExitStatus['main'] = null;
  const pipe = readStatus(child, {
    onInitStarted: release,
    onReaped: (n) => hooks.onReaped?.(n),
    onMainExit: (rec) => (main = { code: rec.code, signal: signalName(rec.signal) }),
  });
  const status = pipe.outcome;
  const initEnded = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    new addon.PidfdWatch(child.pidfd, (code, signal) => {
      release(); // the child can no longer be running on the request's memory
      fs.closeSync(child.pidfd);
      disown(child.pid);
      resolve({ code, signal: signalName(signal) });
    });
  });
  // The main process's end is the last record on the pipe, which closes when nsvisor-init is gone.
  const exited = Promise.all([initEnded, pipe.closed]).then(([end]): ExitStatus => ({ ...end, main }));
  try {
    writeIdMaps(child.pid, plan);
    writeCgroupProcs(child.pid, placement);
    try {
      await hooks.beforeGo?.(child.pid);
    } catch (e) {
      throw asSpawnError(e);
    }
    fs.writeSync(child.syncFd, 'g');
  } catch (e) {
    fs.closeSync(child.syncFd); // EOF without the go byte: the child gives up
    await Promise.all([exited, status.catch(() => null)]);
    if (e instanceof SpawnError) e.pid = child.pid;
    throw e;
  }
  fs.closeSync(child.syncFd);
  const proc = new IsolatedProcess(child.pid, child.pidfd, exited);
  const failure = await status;
  if (!failure) return proc;
  const end = await exited;
  const code = end.code ?? exitCodeFor(failure.step, failure.errno);
  const err = new SpawnError(failure.step, subjectOf(plan, failure), failure.errno, code);
  err.pid = child.pid;
  throw err;
}
