// The error of a start that failed before the service command ran: which step, on what, and the kernel's errno.
import { addon } from '../native';

export class SpawnError extends Error {
  /** Host pid of the attempt's first process, when it got that far. */
  pid = 0;

  constructor(
    /** The step as the user reads it, e.g. "pivot_root". */
    readonly step: string,
    /** What the step worked on (a path, a hostname), or null. */
    readonly subject: string | null,
    readonly errno: number,
    /** The exit code the SPEC gives this failure: 127 not found, 126 not executable, else 125. */
    readonly exitCode: number,
  ) {
    super(`${subject === null ? step : `${step}(${subject})`}: ${addon.strerror(errno)}`);
    this.name = 'SpawnError';
  }
}

/** Exit code for a failure at `step` with `errno`, as shells and SPEC section 1 have it. */
export function exitCodeFor(step: string, errno: number): number {
  if (step !== 'execve') return 125;
  return errno === 2 /* ENOENT */ ? 127 : 126;
}
