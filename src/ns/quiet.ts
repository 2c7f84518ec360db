// Which read errors mean "this process vanished or is not ours to look at", so a scan skips it without a word.
import { constants } from 'os';

const QUIET_CODES = new Set(['ENOENT', 'ESRCH', 'EACCES', 'EPERM']);
const QUIET_ERRNOS = new Set([...QUIET_CODES].map((c) => constants.errno[c as keyof typeof constants.errno]));

/** True for ENOENT, ESRCH, EACCES, EPERM: Node's fs errors (.code, negative .errno) and the addon's (positive .errno). */
export function isVanishedOrDenied(err: unknown): boolean {
  const e = err as { code?: unknown; errno?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (typeof e.code === 'string') return QUIET_CODES.has(e.code);
  return typeof e.errno === 'number' && QUIET_ERRNOS.has(Math.abs(e.errno));
}

/** fn(), or null when it failed because the process vanished or denied access; other errors go on. */
export function quietly<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch (err) {
    if (isVanishedOrDenied(err)) return null;
    throw err;
  }
}
