// The one error of the launch path: what failed (step, subject, errno) and whether retrying can ever help; built only here.
import * as os from 'os';

import { AddressError } from '../net/ipam';
import { CgroupError } from '../cgroup/files';
import { LimitError } from '../cgroup/limits';
import { addon } from '../native';
import { SpecError } from '../spawn-plan/plan';
import { ListenError } from '../service/listen-sockets';

/** Errno number -> name; where two names share a number (EAGAIN and EWOULDBLOCK), the first, usual one. */
const ERRNO_NAMES = new Map<number, string>();
for (const [name, n] of Object.entries(os.constants.errno)) if (!ERRNO_NAMES.has(n)) ERRNO_NAMES.set(n, name);

/** Errnos that say the host is short of something for now (memory, pids, fds, a port, a lock): a later try may work. */
const TRANSIENT = new Set([
  'EAGAIN', 'ENOMEM', 'EMFILE', 'ENFILE', 'ENOSPC', 'EINTR', 'EBUSY', 'EADDRINUSE', 'EADDRNOTAVAIL', 'ETIMEDOUT',
  'ECONNREFUSED', 'ESRCH', 'EDQUOT', 'ENOBUFS', 'EIO',
]);

/** Whether a failure with this errno may go away by itself. */
export function transientErrno(errno: number | null): boolean {
  return errno === null || TRANSIENT.has(ERRNO_NAMES.get(errno) ?? '');
}

export function errnoName(errno: number | null): string | null {
  return errno === null ? null : ERRNO_NAMES.get(errno) ?? null;
}

export function errnoOf(code: string | undefined): number | null {
  if (!code) return null;
  return (os.constants.errno as Record<string, number>)[code] ?? null;
}

/**
 * A start (or the end) of an instance that did not go as planned. `step` and `subject` say where ("pivot_root",
 * "/srv/web"), `errno` the kernel's answer (positive, or null when it was not a system call that failed),
 * `permanent` that the same start can never work until the configuration or the host changes.
 */
export class LaunchFailure extends Error {
  /** Host pid of the attempt's first process, when it got that far. */
  pid = 0;

  private constructor(
    readonly step: string,
    readonly subject: string | null,
    readonly errno: number | null,
    readonly permanent: boolean,
    /** The exit code SPEC section 1 gives this failure: 127 not found, 126 not executable, else 125. */
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'LaunchFailure';
  }

  get errnoName(): string | null {
    return errnoName(this.errno);
  }

  /**
   * A system call at `step` on `subject` failed with `errno`: "pivot_root(/srv/web): Invalid argument". An execve
   * of the command exits 127 (not found) or 126, every other step 125.
   */
  static ofSyscall(step: string, subject: string | null, errno: number, opts: { exec?: boolean; permanent?: boolean } = {}): LaunchFailure {
    const where = subject === null ? step : `${step}(${subject})`;
    const code = opts.exec ? (errno === os.constants.errno.ENOENT ? 127 : 126) : 125;
    return new LaunchFailure(step, subject, errno, opts.permanent ?? !transientErrno(errno), code, `${where}: ${addon.strerror(errno)}`);
  }

  /** A failure of a step that is not one system call: a setting that cannot work, a full subnet, a bad record. */
  static ofStep(step: string, subject: string | null, message: string, permanent: boolean, errno: number | null = null): LaunchFailure {
    return new LaunchFailure(step, subject, errno, permanent, 125, message);
  }

  /**
   * Whatever a layer of the launch path threw, as a LaunchFailure: the one place that knows each layer's errors.
   * An error of no known kind is a defect of nsvisor: it still becomes a (transient) failure of this one service.
   */
  static from(e: unknown): LaunchFailure {
    if (e instanceof LaunchFailure) return e;
    if (e instanceof SpecError) return LaunchFailure.ofStep('config', e.key, e.message, true);
    if (e instanceof LimitError) return LaunchFailure.ofStep('cgroup limits', null, e.message, true);
    if (e instanceof CgroupError) {
      const errno = errnoOf(e.code);
      // No errno: a controller that is not there; else the kernel's verdict on the value, or a shortage.
      return LaunchFailure.ofStep('cgroup', null, e.message, errno === null || !transientErrno(errno), errno);
    }
    if (e instanceof AddressError) return LaunchFailure.ofStep('address lease', null, e.message, false);
    if (e instanceof ListenError) return LaunchFailure.ofStep('listen', null, e.message, !transientErrno(e.errno), e.errno);
    const err = e as Error & { syscall?: string; errno?: number; code?: string; path?: string };
    if (typeof err?.syscall === 'string') {
      // The addon's errors carry a positive errno, Node's fs errors a negative one and the path.
      const errno = typeof err.errno === 'number' ? Math.abs(err.errno) : errnoOf(err.code) ?? 0;
      return LaunchFailure.ofSyscall(err.syscall, err.path ?? null, errno);
    }
    return LaunchFailure.ofStep('internal', null, `internal error: ${err?.message ?? String(e)}`, false);
  }
}
