// Pure parsing of the argument of nsvisor ns: nothing (every namespace), a PID, or a service NAME.
export type NsTarget = { kind: 'all' } | { kind: 'pid'; pid: number } | { kind: 'name'; name: string };

/** Largest pid Linux can hand out (PID_MAX_LIMIT on 64-bit). */
const PID_MAX_LIMIT = 4194304;

/** A decimal number is a PID, anything else a service name; throws a RangeError for a number no process can have. */
export function parseTarget(arg: string | undefined): NsTarget {
  if (arg === undefined) return { kind: 'all' };
  if (/^\d+$/.test(arg)) {
    const pid = Number(arg);
    if (pid < 1 || pid > PID_MAX_LIMIT) throw new RangeError(`"${arg}" is not a valid pid (1..${PID_MAX_LIMIT})`);
    return { kind: 'pid', pid };
  }
  if (arg.trim() === '') throw new RangeError('expected a PID or a service name, got an empty string');
  return { kind: 'name', name: arg };
}
