// Decodes the fixed-size records that the clone child and nsvisor-init write on the status pipe (native/steps.h).
import { addon } from '../native';

export const RECORD_SIZE = 16;

export type StatusRecord =
  | { kind: 'initStarted' }
  /** `stepId` is the step's index in NSV_STEPS, `step` its name as the user reads it. */
  | { kind: 'error'; stepId: number; step: string; errno: number; index: number }
  /** The main process runs its command; nsvisor-init keeps the pipe from then on. */
  | { kind: 'execOk' }
  /** Orphans nsvisor-init reaped since its last such record. */
  | { kind: 'reaped'; count: number }
  /** How the main process ended: nsvisor-init's last word before it exits. */
  | { kind: 'mainExit'; code: number | null; signal: number | null }
  /** Bytes that are no record: the pipe cannot be read in step any more, so decoding stops here. */
  | { kind: 'garbage'; value: number };

/**
 * Splits `buf` into records; returns them and the bytes of an incomplete one left over. A record of no known kind
 * ends the list with a `garbage` record (and nothing left over): what follows it cannot be trusted to be aligned.
 */
export function decodeRecords(buf: Buffer): { records: StatusRecord[]; rest: Buffer } {
  const records: StatusRecord[] = [];
  const k = addon.recordKinds;
  let off = 0;
  for (; off + RECORD_SIZE <= buf.length; off += RECORD_SIZE) {
    const kind = buf.readInt32LE(off);
    const a = buf.readInt32LE(off + 4);
    if (kind === k.initStarted) records.push({ kind: 'initStarted' });
    else if (kind === k.execOk) records.push({ kind: 'execOk' });
    else if (kind === k.reaped) records.push({ kind: 'reaped', count: a });
    else if (kind === k.mainExit) records.push({ kind: 'mainExit', code: a < 0 ? null : a, signal: a < 0 ? buf.readInt32LE(off + 8) : null });
    else if (kind === k.error) {
      records.push({ kind: 'error', stepId: a, step: addon.stepNames[a] ?? `step ${a}`, errno: buf.readInt32LE(off + 8), index: buf.readInt32LE(off + 12) });
    } else {
      records.push({ kind: 'garbage', value: kind });
      return { records, rest: Buffer.alloc(0) };
    }
  }
  return { records, rest: buf.subarray(off) };
}
