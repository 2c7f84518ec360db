// Piscina task: the per-instance rtnetlink work on a worker thread, errors returned as data so .syscall and .errno survive.
import { connect, ConnectRequest, counters, moveBack, moveIn, remove } from '../net/links';

export type NetlinkTask = { op: 'connect'; request: ConnectRequest } | { op: 'remove'; name: string } | { op: 'moveIn'; name: string; pid: number }
  | { op: 'moveBack'; name: string; nsFd: number } | { op: 'counters'; pid: number };

export type NetlinkResult = { ok: true; value: unknown } | { ok: false; message: string; syscall?: string; errno?: number };

export default function run(task: NetlinkTask): NetlinkResult {
  try {
    let value: unknown;
    if (task.op === 'connect') value = connect(task.request);
    else if (task.op === 'moveIn') value = moveIn(task.name, task.pid);
    else if (task.op === 'moveBack') value = moveBack(task.name, task.nsFd);
    else if (task.op === 'counters') value = counters(task.pid);
    else value = remove(task.name);
    return { ok: true, value };
  } catch (e) {
    const err = e as Error & { syscall?: string; errno?: number };
    return { ok: false, message: err.message, syscall: err.syscall, errno: err.errno };
  }
}
