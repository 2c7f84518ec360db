// What killed a main process that died of SIGSYS: the seccomp filter's audit record in the kernel log (/dev/kmsg), found by its host pid.
import * as fs from 'fs';

import { sigsysRecordOf, syscallNameOf, Victim } from '../seccomp/audit-record';

/** A SIGSYS death explained: the syscall the filter refused, or why the kernel log does not say. */
export interface SeccompDeath {
  /** The system call number the record names, or null when no record was found. */
  syscall: number | null;
  /** Its name on the record's architecture, when nsvisor's table has it. */
  name: string | null;
  /** When syscall is null: why ("the kernel logged no record", "cannot read /dev/kmsg: EPERM"). */
  missing?: string;
}

/** The kernel prints audit records from a thread of its own (kauditd) when auditd is not running: a record may come a little after the death. */
const RECORD_WAIT_MS = 300;
const POLL_MS = 20;

/** Every record /dev/kmsg holds now, one line each (a record overwritten while reading is skipped). */
function kmsgLines(): string[] {
  const fd = fs.openSync('/dev/kmsg', fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const buf = Buffer.alloc(8192); // a record is at most 8 KiB (CONSOLE_EXT_LOG_MAX)
  const lines: string[] = [];
  try {
    for (;;) {
      try {
        const n = fs.readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        lines.push(buf.toString('utf8', 0, n));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') break;
        if (code !== 'EPIPE') throw e; // EPIPE: the ring buffer wrapped past our place; the next read goes on
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return lines;
}

/** The kernel's command line, where audit=0 turns every audit record off until reboot. */
function kernelCmdline(): string {
  try {
    return fs.readFileSync('/proc/cmdline', 'utf8');
  } catch {
    return '';
  }
}

/** Whether the kernel was booted with audit off (audit=0 or audit=off): then it logs no seccomp record at all. */
export function auditOff(cmdline: string): boolean {
  return /(?:^|\s)audit=(?:0|off)(?=\s|$)/.test(cmdline);
}

export interface LogSources {
  /** Every record of the kernel log, one line each. */
  kmsg(): string[];
  /** The kernel's command line. */
  cmdline(): string;
}

const HOST_LOG: LogSources = { kmsg: kmsgLines, cmdline: kernelCmdline };

/**
 * The syscall that made the seccomp filter kill `victim` (a host pid, or the pids after its init's) no earlier than
 * `since` (ms since the epoch), from the kernel log; waits up to RECORD_WAIT_MS for the record to be printed (not
 * when audit is off).
 */
export async function seccompDeathOf(victim: Victim, since: number, log: LogSources = HOST_LOG): Promise<SeccompDeath> {
  if (auditOff(log.cmdline())) return { syscall: null, name: null, missing: 'the kernel logs no record, it was booted with audit off' };
  const deadline = Date.now() + RECORD_WAIT_MS;
  for (;;) {
    let lines: string[];
    try {
      lines = log.kmsg();
    } catch (e) {
      return { syscall: null, name: null, missing: `cannot read /dev/kmsg: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
    }
    const { record, pids } = sigsysRecordOf(lines, victim, since);
    if (record) return { syscall: record.syscall, name: syscallNameOf(record.arch, record.syscall) };
    if (pids > 1) return { syscall: null, name: null, missing: `it ended before nsvisor read its pid, and ${pids} processes started after its init died of the filter` };
    if (Date.now() >= deadline) return { syscall: null, name: null, missing: 'the kernel logged no record' };
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** "killed by the seccomp filter (SIGSYS) at syscall 110 (getppid)", or, without a record, why the syscall is not known. */
export function describeSeccompDeath(d: SeccompDeath): string {
  if (d.syscall === null) return `killed by SIGSYS, as the seccomp filter kills; which syscall is not known: ${d.missing ?? 'the kernel logged no record'}`;
  return `killed by the seccomp filter (SIGSYS) at syscall ${d.syscall}${d.name ? ` (${d.name})` : ''}`;
}
