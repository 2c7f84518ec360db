// Starts a SpawnPlan through the addon and tracks the result: id maps, the go byte, the status pipe, the pidfd.
import * as fs from 'fs';
import * as os from 'os';

import type { Placement } from '../cgroup/driver';
import { faultPoint } from '../fault/seam';
import { errnoOf, LaunchFailure } from '../launch/failure';
import { addon, SpawnedChild, STEP_IDS, StepId } from '../native';
import type { SpawnPlan } from '../spawn-plan/plan';
import { disown, own } from './owned-pids';
import { readStatus, StatusListeners } from './status-pipe';
import type { StatusRecord } from './status-records';

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
    /** Host pid of the service's main process (nsvisor-init's child), or null if it was gone before we looked. */
    readonly mainPid: number | null,
    private readonly pidfd: PidfdRef,
    /** Resolves when nsvisor-init has exited and been reaped. */
    readonly exited: Promise<ExitStatus>,
  ) {
    void exited.then(() => (this.ended = true));
  }

  /** Sends a signal to nsvisor-init, which forwards it; false once the process is gone. */
  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    if (this.ended) return false;
    const n = typeof signal === 'number' ? signal : os.constants.signals[signal];
    return this.pidfd.signal(n);
  }
}

/**
 * A pidfd and whether it is still open. It is closed when its process has gone, which can be before the instance
 * is known to have ended (the status pipe still draining): a signal then must not reach the fd number, which
 * may be another file (or another process's pidfd) by then.
 */
export class PidfdRef {
  private open = true;
  constructor(readonly fd: number) {}

  /** pidfd_send_signal; false once the process or the fd is gone. */
  signal(n: number): boolean {
    return this.open && addon.sendSignal(this.fd, n);
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    fs.closeSync(this.fd);
  }
}

export function signalName(n: number | null): NodeJS.Signals | null {
  if (n === null) return null;
  const entry = Object.entries(os.constants.signals).find(([, v]) => v === n);
  return (entry?.[0] as NodeJS.Signals) ?? null;
}

const codeOf = (e: unknown) => errnoOf((e as NodeJS.ErrnoException).code) ?? 0;

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
      throw LaunchFailure.ofSyscall(`write /proc/PID/${file}`, text.trim().replace(/\n/g, ', '), codeOf(e));
    }
  }
}

/** Opens the cgroup2 directory the child is cloned into (CLONE_INTO_CGROUP). */
function openCgroupDir(dir: string): number {
  try {
    faultPoint('cgroup.placement', dir);
    return fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  } catch (e) {
    throw LaunchFailure.ofSyscall('open', dir, codeOf(e));
  }
}

/** v1: the parent moves the child into each controller's cgroup while it waits for the go byte. */
function writeCgroupProcs(pid: number, placement: Placement | undefined): void {
  for (const file of placement?.procsFiles ?? []) {
    try {
      faultPoint('cgroup.placement', file);
      fs.writeFileSync(file, String(pid));
    } catch (e) {
      throw LaunchFailure.ofSyscall('write cgroup.procs', file, codeOf(e));
    }
  }
}

/** What the steps that are not about one mount work on, by step id: the user's words for the failure's subject. */
const SUBJECTS: Partial<Record<StepId, (r: SpawnPlan['request']) => string | null>> = {
  ROOTFS_BIND: (r) => r.rootfs,
  CHDIR_ROOTFS: (r) => r.rootfs,
  PIVOT_ROOT: (r) => r.rootfs,
  CWD: (r) => r.cwd,
  HOSTNAME: (r) => r.hostname,
  DOMAINNAME: (r) => r.domainname,
  EXEC: (r) => r.argv[r.argv.indexOf('--') + 1],
};

/** What a failed step was working on, in the user's words: the mount it names, or the subject of its step. */
function subjectOf(plan: SpawnPlan, rec: Extract<StatusRecord, { kind: 'error' }>): string | null {
  if (rec.index >= 0) return plan.mountTargets[rec.index] ?? null;
  const id = STEP_IDS.find((s) => addon.steps[s] === rec.stepId);
  return id ? SUBJECTS[id]?.(plan.request) ?? null : null;
}

/** The failure a status record reports, with its subject and exit code. */
function failureOf(plan: SpawnPlan, rec: Extract<StatusRecord, { kind: 'error' }>): LaunchFailure {
  return LaunchFailure.ofSyscall(rec.step, subjectOf(plan, rec), rec.errno, { exec: rec.stepId === addon.steps.EXEC });
}

/** The only child nsvisor-init has when it says the command runs: the service's main process. */
function firstChild(pid: number): number | null {
  try {
    const first = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0];
    return first ? Number(first) : null;
  } catch {
    return null;
  }
}

export interface StartHooks {
  /** Runs once the child exists in its namespaces and before it goes on: moves in its network. May throw. */
  beforeGo?(pid: number): void | Promise<void>;
  /** Orphans nsvisor-init reaped, reported in batches while the instance runs. */
  onReaped?(count: number): void;
  /** The status pipe said something that is no record, after the command had started: it is read no further. */
  onGarbage?(failure: LaunchFailure): void;
}

/**
 * Starts the plan. Resolves once the service command has been executed, with the running process; rejects with a
 * LaunchFailure once everything the attempt created has ended.
 */
export async function startIsolated(name: string, plan: SpawnPlan, placement?: Placement, hooks: StartHooks = {}): Promise<IsolatedProcess> {
  let child: SpawnedChild;
  const cgroupFd = placement?.cloneInto ? openCgroupDir(placement.cloneInto) : null;
  try {
    faultPoint('spawn', name);
    child = addon.spawn({ ...plan.request, cgroupFd });
  } catch (e) {
    const err = e as Error & { syscall?: string; errno?: number };
    const syscall = err.syscall ?? 'clone3';
    throw LaunchFailure.ofSyscall(syscall, syscall === 'clone3' && cgroupFd !== null ? `CLONE_INTO_CGROUP ${placement!.cloneInto}` : null, err.errno ?? codeOf(e));
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
  let running = false;
  const listeners: StatusListeners = {
    onInitStarted: release,
    onReaped: (n) => hooks.onReaped?.(n),
    onMainExit: (rec) => (main = { code: rec.code, signal: signalName(rec.signal) }),
    onGarbage: (value) => {
      const failure = LaunchFailure.ofStep('status pipe', null, `status pipe: a record of unknown kind ${value}: the rest is not read`, false);
      if (running) hooks.onGarbage?.(failure);
      return failure;
    },
  };
  const pipe = readStatus(name, child.statusFd, listeners);
  const pidfd = new PidfdRef(child.pidfd);
  const initEnded = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    new addon.PidfdWatch(child.pidfd, (code, signal) => {
      release(); // the child can no longer be running on the request's memory
      pidfd.close();
      disown(child.pid);
      resolve({ code, signal: signalName(signal) });
    });
  });
  // The main process's end is the last record on the pipe, which closes when nsvisor-init is gone.
  const exited = Promise.all([initEnded, pipe.closed]).then(([end]): ExitStatus => ({ ...end, main }));
  const giveUp = async (failure: LaunchFailure): Promise<never> => {
    pidfd.signal(os.constants.signals.SIGKILL);
    await exited;
    failure.pid = child.pid;
    throw failure;
  };
  try {
    writeIdMaps(child.pid, plan);
    writeCgroupProcs(child.pid, placement);
    await hooks.beforeGo?.(child.pid);
    fs.writeSync(child.syncFd, 'g');
  } catch (e) {
    fs.closeSync(child.syncFd); // EOF without the go byte: the child gives up
    await Promise.all([exited, pipe.outcome]);
    const failure = LaunchFailure.from(e);
    failure.pid = child.pid;
    throw failure;
  }
  fs.closeSync(child.syncFd);
  const outcome = await pipe.outcome;
  if (outcome.kind === 'garbage') return giveUp(outcome.failure);
  if (outcome.kind === 'error') {
    await exited;
    const failure = failureOf(plan, outcome.record);
    failure.pid = child.pid;
    throw failure;
  }
  running = true;
  return new IsolatedProcess(child.pid, firstChild(child.pid), pidfd, exited);
}
