// Turns how nsvisor-init ended into the exit record of SPEC 4.2: code, signal and reason.
import * as os from 'os';

export type ExitReason = 'completed' | 'error' | 'signaled' | 'oom_killed' | 'spawn_failed';

export interface ExitRecord {
  code: number | null;
  signal: string | null;
  reason: ExitReason;
  at: Date;
}

const SIGNAL_NAMES = new Map(Object.entries(os.constants.signals).map(([name, n]) => [n, name]));

/**
 * nsvisor-init exits with the main process's code, or 128+N when it was killed by signal N (as tini does);
 * init itself killed (stop timeout) shows as a signal of its own.
 */
export function classifyExit(code: number | null, signal: string | null, oomKilled = false, at = new Date()): ExitRecord {
  if (oomKilled) return { code, signal, reason: 'oom_killed', at };
  if (signal) return { code: null, signal, reason: 'signaled', at };
  if (code !== null && code > 128 && SIGNAL_NAMES.has(code - 128)) {
    return { code, signal: SIGNAL_NAMES.get(code - 128)!, reason: 'signaled', at };
  }
  return { code, signal: null, reason: code === 0 ? 'completed' : 'error', at };
}
