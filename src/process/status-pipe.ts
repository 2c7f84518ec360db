// Reads one instance's status pipe: how its start went, then the reaped-orphan counts and the main process's end.
import * as net from 'net';

import { faultPoint } from '../fault/seam';
import type { LaunchFailure } from '../launch/failure';
import { decodeRecords, StatusRecord } from './status-records';

type ErrorRecord = Extract<StatusRecord, { kind: 'error' }>;

export interface StatusListeners {
  onInitStarted(): void;
  onReaped(count: number): void;
  onMainExit(rec: Extract<StatusRecord, { kind: 'mainExit' }>): void;
  /** A record of no known kind: the failure to report (reading stops there). */
  onGarbage(value: number): LaunchFailure;
}

/** How the start went, as the pipe tells: the command runs, a step failed, or the pipe made no sense. */
export type StartOutcome = { kind: 'running' } | { kind: 'error'; record: ErrorRecord } | { kind: 'garbage'; failure: LaunchFailure };

/**
 * `outcome` settles once the command runs (nsvisor-init says so, or the pipe closes without an error) or with the
 * first error record; it never rejects. The pipe is read until nsvisor-init exits (`closed`).
 */
export function readStatus(name: string, fd: number, on: StatusListeners): { outcome: Promise<StartOutcome>; closed: Promise<void> } {
  const pipe = new net.Socket({ fd, readable: true, writable: false });
  const closed = new Promise<void>((resolve) => pipe.once('close', () => resolve()));
  const outcome = new Promise<StartOutcome>((resolve) => {
    let pending: Buffer = Buffer.alloc(0);
    let failure: ErrorRecord | null = null;
    let lost = false;
    pipe.on('data', (data: Buffer) => {
      if (lost) return; // out of step after a bad record: drained until nsvisor-init closes it
      const chunk = faultPoint('status-record', name, data);
      const { records, rest } = decodeRecords(Buffer.concat([pending, chunk]));
      pending = rest;
      for (const rec of records) {
        if (rec.kind === 'initStarted') on.onInitStarted();
        else if (rec.kind === 'execOk') resolve({ kind: 'running' });
        else if (rec.kind === 'reaped') on.onReaped(rec.count);
        else if (rec.kind === 'mainExit') on.onMainExit(rec);
        else if (rec.kind === 'error') failure ??= rec;
        else {
          lost = true;
          resolve({ kind: 'garbage', failure: on.onGarbage(rec.value) });
        }
      }
    });
    // A read error ends the pipe like EOF: what it said so far stands.
    pipe.on('error', () => pipe.destroy());
    void closed.then(() => resolve(failure ? { kind: 'error', record: failure } : { kind: 'running' }));
  });
  return { outcome, closed };
}
