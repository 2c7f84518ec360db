// Decodes the fixed-size records that the clone child and nsvisor-init write on the status pipe (native/steps.h).
import { addon } from '../native';

export const RECORD_SIZE = 16;

export type StatusRecord =
  | { kind: 'initStarted' }
  | { kind: 'error'; step: string; errno: number; index: number }
  /** The main process runs its command; nsvisor-init keeps the pipe from then on. */
  | { kind: 'execOk' }
  /** Orphans nsvisor-init reaped since its last such record. */
  | { kind: 'reaped'; count: number }
  /** How the main process ended: nsvisor-init's last word before it exits. */
  | { kind: 'mainExit'; code: number | null; signal: number | null };

/** Splits `buf` into records; returns them and the bytes of an incomplete one left over. */
export function decodeRecords(buf: Buffer): { records: StatusRecord[]; rest: Buffer } {
  const records: StatusRecord[] = [];
  let off = 0;
  for (; off + RECORD_SIZE <= buf.length; off += RECORD_SIZE) {
    const kind = buf.readInt32LE(off);
    if (kind === addon.recordKinds.initStarted) records.push({ kind: 'initStarted' });
    else if (kind === addon.recordKinds.execOk) records.push({ kind: 'execOk' });
    else if (kind === addon.recordKinds.reaped) records.push({ kind: 'reaped', count: buf.readInt32LE(off + 4) });
    else if (kind === addon.recordKinds.mainExit) {
      const code = buf.readInt32LE(off + 4);
      records.push({ kind: 'mainExit', code: code < 0 ? null : code, signal: code < 0 ? buf.readInt32LE(off + 8) : null });
    }
    else if (kind === addon.recordKinds.error) {
      const step = addon.stepNames[buf.readInt32LE(off + 4)] ?? `step ${buf.readInt32LE(off + 4)}`;
      records.push({ kind: 'error', step, errno: buf.readInt32LE(off + 8), index: buf.readInt32LE(off + 12) });
    } else {
      throw new Error(`status pipe: unknown record kind ${kind}`);
    }
  }
  return { records, rest: buf.subarray(off) };
}
