// The netlink pool: veth setup and removal of each instance on a piscina worker thread, so the event loop stays free.
import * as path from 'path';
import { Piscina } from 'piscina';

import type { NetlinkResult, NetlinkTask } from '../workers/netlink';
import type { ConnectRequest, LinkCounters } from './links';

const TASK_FILE = path.resolve(__dirname, '..', 'workers', 'netlink.js');

let shared: Piscina | null = null;

async function run(task: NetlinkTask): Promise<unknown> {
  shared ??= new Piscina({ filename: TASK_FILE, minThreads: 1, maxThreads: 2, idleTimeout: 30_000 });
  const r: NetlinkResult = await shared.run(task);
  if (r.ok) return r.value;
  throw Object.assign(new Error(r.message), { syscall: r.syscall, errno: r.errno });
}

export async function connectOnPool(request: ConnectRequest): Promise<void> {
  await run({ op: 'connect', request });
}

/** Moves a host device into pid's namespace and sets it up (a virtual one ends with that namespace). */
export async function moveInOnPool(name: string, pid: number): Promise<void> {
  await run({ op: 'moveIn', name, pid });
}

/** Moves a device out of the namespace that `nsFd` holds open, back into the supervisor's own. */
export async function moveBackOnPool(name: string, nsFd: number): Promise<void> {
  await run({ op: 'moveBack', name, nsFd });
}

/** Interface byte counters of pid's network namespace (lo left out); empty when the process is gone. */
export async function countersOnPool(pid: number): Promise<LinkCounters[]> {
  try {
    return (await run({ op: 'counters', pid })) as LinkCounters[];
  } catch {
    return []; // it ended meanwhile
  }
}

export async function removeOnPool(name: string): Promise<boolean> {
  return (await run({ op: 'remove', name })) as boolean;
}

/** Ends the pool's threads (shutdown, tests). */
export async function closeNetlinkPool(): Promise<void> {
  const p = shared;
  shared = null;
  await p?.destroy();
}
