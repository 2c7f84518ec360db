// Seccomp actions: their OCI/Docker names and the 32-bit value a filter returns for each (SECCOMP_RET_* of linux/seccomp.h).
import * as os from 'os';

import type { SeccompAction } from './profile';

const RET = {
  killProcess: 0x80000000,
  killThread: 0x00000000,
  trap: 0x00030000,
  errno: 0x00050000,
  trace: 0x7ff00000,
  log: 0x7ffc0000,
  allow: 0x7fff0000,
} as const;

export const EPERM = os.constants.errno.EPERM;
export const ENOSYS = os.constants.errno.ENOSYS;

/** The value a filter returns for `action`. */
export function actionValue(action: SeccompAction): number {
  if (action.kind === 'errno') return (RET.errno | action.errno) >>> 0;
  if (action.kind === 'trace') return (RET.trace | action.data) >>> 0;
  return RET[action.kind];
}

/** Whether `action` lets the call through to the kernel. */
export function letsThrough(action: SeccompAction): boolean {
  return action.kind === 'allow' || action.kind === 'log';
}

/** SCMP_ACT_* names of profiles -> the action; `ret` is errnoRet (ERRNO, TRACE), EPERM when absent, as runc does. */
export const ACTION_NAMES: Record<string, (ret: number | undefined) => SeccompAction> = {
  SCMP_ACT_ALLOW: () => ({ kind: 'allow' }),
  SCMP_ACT_LOG: () => ({ kind: 'log' }),
  SCMP_ACT_ERRNO: (ret) => ({ kind: 'errno', errno: ret ?? EPERM }),
  SCMP_ACT_TRAP: () => ({ kind: 'trap' }),
  SCMP_ACT_TRACE: (ret) => ({ kind: 'trace', data: ret ?? EPERM }),
  SCMP_ACT_KILL: () => ({ kind: 'killThread' }),
  SCMP_ACT_KILL_THREAD: () => ({ kind: 'killThread' }),
  SCMP_ACT_KILL_PROCESS: () => ({ kind: 'killProcess' }),
};

/** The actions that take errnoRet. */
export const ACTIONS_WITH_RET = ['SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE'];
