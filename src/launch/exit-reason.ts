// Turns how nsvisor-init ended into the exit record of SPEC 4.2 (code, signal, reason), for services and sandboxes alike.
import * as os from 'os';

import type { SeccompDeath } from './seccomp-death';

export type ExitReason = 'completed' | 'error' | 'signaled' | 'oom_killed' | 'spawn_failed' | 'unhealthy';

export const EXIT_REASONS: readonly ExitReason[] = ['completed', 'error', 'signaled', 'oom_killed', 'spawn_failed', 'unhealthy'];

/** How many instances ended for each reason. */
export type ExitCounts = Record<ExitReason, number>;

/** Every reason at 0. */
export const noExits = (): ExitCounts => Object.fromEntries(EXIT_REASONS.map((r) => [r, 0])) as ExitCounts;

export interface ExitRecord {
  code: number | null;
  signal: string | null;
  reason: ExitReason;
  at: Date;
  /** Killed by SIGSYS: the syscall the seccomp filter refused, as the kernel's audit record names it (or why it does not). */
  seccomp?: SeccompDeath;
}

const SIGNAL_NAMES = new Map(Object.entries(os.constants.signals).map(([name, n]) => [n, name]));

/** How the main process ended, when nsvisor-init could say (see ExitStatus.main). */
export interface MainEnd {
  code: number | null;
  signal: string | null;
}

/**
 * With `main` (nsvisor-init's report) the main process's own end; without it, inferred from nsvisor-init's
 * exit, as tini's users do: the main process's code, or 128+N when it was killed by signal N; init itself
 * killed (stop timeout) shows as a signal of its own.
 */
export function classifyExit(code: number | null, signal: string | null, oomKilled = false, at = new Date(), main: MainEnd | null = null): ExitRecord {
  if (oomKilled) return { code, signal: main?.signal ?? signal, reason: 'oom_killed', at };
  if (signal) return { code: null, signal, reason: 'signaled', at };
  if (main?.signal) return { code, signal: main.signal, reason: 'signaled', at };
  if (main) return { code: main.code, signal: null, reason: main.code === 0 ? 'completed' : 'error', at };
  if (code !== null && code > 128 && SIGNAL_NAMES.has(code - 128)) {
    return { code, signal: SIGNAL_NAMES.get(code - 128)!, reason: 'signaled', at };
  }
  return { code, signal: null, reason: code === 0 ? 'completed' : 'error', at };
}

/** The exit record of a launched instance's end (nsvisor-init's exit, its report on the main process, the OOM count). */
export function classifyEnd(end: { code: number | null; signal: string | null; oomKilled: boolean; main: MainEnd | null; seccomp?: SeccompDeath }, at = new Date()): ExitRecord {
  const exit = classifyExit(end.code, end.signal, end.oomKilled, at, end.main);
  return end.seccomp && exit.signal === 'SIGSYS' ? { ...exit, seccomp: end.seccomp } : exit;
}
