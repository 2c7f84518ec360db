// A test's view of a process tree: each process with its start time, so a pid reused later is not taken for it.
import * as fs from 'fs';

import { alive, childrenOf } from './helpers';

/** A process as seen once: pid plus start time, so a pid reused later is not taken for it. */
export interface Seen {
  pid: number;
  start: string;
  comm: string;
  sid: number;
}

export function stat(pid: number): Seen | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { pid, start: fields[19], sid: Number(fields[3]), comm: text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')) };
  } catch {
    return null;
  }
}

export const stillRunning = (s: Seen) => alive(s.pid) && stat(s.pid)?.start === s.start;

/** pid and every process below it, as they are now. */
export function tree(pid: number): Seen[] {
  const self = stat(pid);
  return self ? [self, ...childrenOf(pid).flatMap(tree)] : [];
}
