// Reads the kernel's audit record of a seccomp kill (type=1326, "AUDIT_SECCOMP") out of a /dev/kmsg line, and names its syscall.
import { ARCHES, archInfo } from './arch';

/** AUDIT_SECCOMP of include/uapi/linux/audit.h. */
export const AUDIT_SECCOMP = 1326;

export interface SeccompRecord {
  /** The process the filter acted on, as the initial pid namespace numbers it (the host pid). */
  pid: number;
  /** The signal it was sent: 31 (SIGSYS) for a kill or a trap, 0 for a logged errno or allow. */
  sig: number;
  /** seccomp_data.arch: AUDIT_ARCH_* */
  arch: number;
  /** The system call number as the filter saw it (with x32's bit where it was set). */
  syscall: number;
  /** When the kernel stamped the record, in ms since the epoch ("audit(SECONDS.MILLIS:SERIAL)"). */
  at: number;
}

/** A field of an audit record: `key=value` with the value unquoted and ended by a space (comm and exe are quoted or hex). */
function field(text: string, key: string): string | null {
  const m = new RegExp(`(?:^|\\s)${key}=([^\\s"]+)(?=\\s|$)`).exec(text);
  return m ? m[1] : null;
}

/**
 * The seccomp record one /dev/kmsg line holds ("PRI,SEQ,USEC,FLAGS;audit: type=1326 audit(T:N): ... pid=P ... sig=S
 * arch=A syscall=N ..."), or null when the line is another message or lacks a field.
 */
export function parseSeccompRecord(line: string): SeccompRecord | null {
  const body = line.slice(line.indexOf(';') + 1);
  const head = /^audit: type=(\d+) audit\((\d+)\.(\d{3}):\d+\): /.exec(body);
  if (!head || Number(head[1]) !== AUDIT_SECCOMP) return null;
  const rest = body.slice(head[0].length - 1).replace(/\n[\s\S]*$/, ''); // continuation lines (" KEY=VALUE") follow the first
  const pid = field(rest, 'pid');
  const sig = field(rest, 'sig');
  const arch = field(rest, 'arch');
  const syscall = field(rest, 'syscall');
  if (pid === null || sig === null || arch === null || syscall === null || !/^[0-9a-f]+$/i.test(arch)) return null;
  if (![pid, sig, syscall].every((v) => /^\d+$/.test(v))) return null;
  return { pid: Number(pid), sig: Number(sig), arch: parseInt(arch, 16), syscall: Number(syscall), at: Number(head[2]) * 1000 + Number(head[3]) };
}

/** The name of system call `nr` on the architecture `auditArch` names, or null where nsvisor has no table or no such call. */
export function syscallNameOf(auditArch: number, nr: number): string | null {
  const arch = ARCHES.map(archInfo).find((a) => a.auditArch === auditArch);
  if (!arch) return null;
  const native = nr & ~arch.otherAbiBit;
  for (const [name, n] of arch.syscalls) if (n === native) return name;
  return null;
}

/** The last SIGSYS record for `pid` no older than `since` (ms since the epoch) among `lines`, or null. */
export function lastSigsysRecord(lines: Iterable<string>, pid: number, since: number): SeccompRecord | null {
  let found: SeccompRecord | null = null;
  for (const line of lines) {
    const r = parseSeccompRecord(line);
    if (r && r.pid === pid && r.sig === 31 && r.at >= since) found = r;
  }
  return found;
}
