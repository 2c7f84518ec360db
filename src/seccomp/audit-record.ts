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

/**
 * Whose record to look for: the main process's host pid; or, when it ended before its pid was read, any pid
 * after its init's (`after`, up to `within` more): the kernel hands out pids in order, and init's first fork is
 * the main process.
 */
export type Victim = { pid: number } | { after: number; within: number };

export interface VictimRecord {
  /** The last SIGSYS record of the victim no older than `since`; for a range, only when one pid of it has any. */
  record: SeccompRecord | null;
  /** How many pids had a SIGSYS record (more than one in a range: it cannot say which is the victim). */
  pids: number;
}

export function sigsysRecordOf(lines: Iterable<string>, victim: Victim, since: number): VictimRecord {
  const fits = 'pid' in victim ? (pid: number) => pid === victim.pid : (pid: number) => pid > victim.after && pid <= victim.after + victim.within;
  const last = new Map<number, SeccompRecord>();
  for (const line of lines) {
    const r = parseSeccompRecord(line);
    if (r && r.sig === 31 && r.at >= since && fits(r.pid)) last.set(r.pid, r);
  }
  return { record: last.size === 1 ? [...last.values()][0] : null, pids: last.size };
}
