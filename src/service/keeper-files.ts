// Where a supervisor leaves what a successor needs to adopt its instances: a socket and a state file per instance, and the identity check of one.
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

import { defaultControlPath } from '../config/supervisor';
import type { ServiceConfig } from '../config/schema';
import type { ExitRecord } from '../launch/exit-reason';

/** What a state file holds: who the instance is, and the counters its slot had when it started running. */
export interface KeeperState {
  service: string;
  /** The slot's index (NAME.K). */
  slot: number;
  /** Its cgroup's name under the root, which names the files too. */
  cgroup: string;
  initPid: number;
  mainPid: number | null;
  /** Field 22 of /proc/PID/stat of nsvisor-init: with the pid, who it is. */
  startTime: string;
  /** Its line of /proc/PID/cgroup as it was. */
  cgroupLine: string;
  startedAt: string;
  /** A digest of the definition it was started with: another one is not adopted. */
  definition: string;
  starts: number;
  restarts: number;
  reaped: number;
  lastExit: (Omit<ExitRecord, 'at'> & { at: string }) | null;
}

/** /run/nsvisor/<hash of cgroupRoot>/instances for root (the runtime dir of the control socket's default otherwise). */
export function keeperDir(cgroupRoot: string): string {
  const hash = createHash('sha256').update(cgroupRoot).digest('hex').slice(0, 12);
  return path.join(path.dirname(defaultControlPath()), hash, 'instances');
}

export const socketPathOf = (dir: string, cgroup: string) => path.join(dir, `${cgroup}.sock`);
const statePathOf = (dir: string, cgroup: string) => path.join(dir, `${cgroup}.json`);

/** The digest of a definition that says whether a successor runs the same one. */
export const definitionDigest = (settings: ServiceConfig) => createHash('sha256').update(JSON.stringify(settings)).digest('hex').slice(0, 16);

/**
 * Whether an instance of this service can be adopted: it needs nothing the supervisor alone has (a notify socket, a
 * network address or device), which a successor could not get back yet. Listen sockets it can: the main process
 * holds them, and the successor copies them from it (adopted-sockets.ts).
 */
export function adoptable(s: ServiceConfig): boolean {
  const notify = s.ready?.type === 'notify' || s.health?.type === 'watchdog';
  return !notify && !s.network;
}

/** Makes the directory (0700); returns it. */
export function ensureKeeperDir(dir: string): string {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** Writes the state file (0600) in one rename. */
export function writeState(dir: string, state: KeeperState): void {
  const file = statePathOf(dir, state.cgroup);
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(state), { mode: 0o600 });
  fs.renameSync(`${file}.tmp`, file);
}

/** The state files of the directory; one that does not parse comes back as an error naming it. */
export function readStates(dir: string): (KeeperState | Error)[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  return names.map((n) => {
    const file = path.join(dir, n);
    try {
      const s = JSON.parse(fs.readFileSync(file, 'utf8')) as KeeperState;
      if (typeof s.initPid !== 'number' || typeof s.cgroup !== 'string' || `${s.cgroup}.json` !== n) throw new Error('not a state file of nsvisor');
      return s;
    } catch (e) {
      return new Error(`${file}: ${(e as Error).message}`);
    }
  });
}

/** Removes an instance's socket and state file (either may be gone already). */
export function removeKeeperFiles(dir: string, cgroup: string): void {
  for (const f of [socketPathOf(dir, cgroup), statePathOf(dir, cgroup), `${statePathOf(dir, cgroup)}.tmp`]) {
    try {
      fs.unlinkSync(f); // one unlink(2): rmSync, with its lstat and walk, took twice as long (99 against 47 µs for a file and a missing one)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
}

/**
 * Field 22 (start time) of /proc/PID/stat and its line of /proc/PID/cgroup, or null when the process is gone: ended,
 * a zombie included (it has left its cgroup, and nobody we know reaps it).
 */
export function processIdentity(pid: number): { startTime: string; cgroupLine: string } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return null;
    const startTime = fields[19];
    const cgroupLine = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim();
    return { startTime, cgroupLine };
  } catch {
    return null;
  }
}

/** Why the process the state names is not that instance (gone, or its pid reused), or null when it is. */
export function identityProblem(s: KeeperState): string | null {
  const now = processIdentity(s.initPid);
  if (!now) return `nsvisor-init ${s.initPid} is gone (no supervisor adopted it in time, and it stopped the service)`;
  if (now.startTime !== s.startTime) return `pid ${s.initPid} is another process now (its start time differs): not adopted`;
  if (now.cgroupLine !== s.cgroupLine) return `pid ${s.initPid} is in another cgroup now: not adopted`;
  return null;
}
