// Where a supervisor leaves what a successor needs to adopt its instances: a socket and a state file per instance, and the identity check of one.
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

import { defaultControlPath } from '../config/supervisor';
import type { ServiceConfig } from '../config/schema';
import { ExitCounts, ExitRecord, noExits } from '../launch/exit-reason';

/** The format of the state files written here; every older one is read too (what it lacks taken as zero or unknown). */
export const STATE_VERSION = 2;

/** What a state file holds: who the instance is, and the counters its slot had when it started running. */
export interface KeeperState {
  /** 1 (absent from the file): no exits by reason, no definition; 2: both. */
  version: number;
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
  /** A digest of the definition it runs. */
  definition: string;
  /** That definition itself, for the reload rules of a successor whose configuration differs (null from a version 1 file). */
  settings: ServiceConfig | null;
  starts: number;
  restarts: number;
  reaped: number;
  lastExit: (Omit<ExitRecord, 'at'> & { at: string }) | null;
  /** The slot's instances ended, by reason (zeros from a version 1 file). */
  exits: ExitCounts;
  /** The sd_notify socket its NOTIFY_SOCKET names (ready: notify, health: watchdog), which a successor binds again. */
  notify?: string | null;
  /** Its address on a bridge (network.attach) and the pid of the supervisor that leased it, which a successor takes over. */
  network?: { name: string; address: string; holder: number } | null;
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

/** Makes the directory (0700); returns it. */
export function ensureKeeperDir(dir: string): string {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** Writes the state file (0600, the definition may hold secrets) in one rename, in this format's version. */
export function writeState(dir: string, state: Omit<KeeperState, 'version'>): void {
  const file = statePathOf(dir, state.cgroup);
  fs.writeFileSync(`${file}.tmp`, JSON.stringify({ ...state, version: STATE_VERSION }), { mode: 0o600 });
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
      const s = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (typeof s?.initPid !== 'number' || typeof s.cgroup !== 'string' || `${s.cgroup}.json` !== n) throw new Error('not a state file of nsvisor');
      return inCurrentForm(s);
    } catch (e) {
      return new Error(`${file}: ${(e as Error).message}`);
    }
  });
}

/** A parsed state file of any version so far as this version's: the fields an older one lacks filled in. Throws naming a bad field. */
function inCurrentForm(s: Record<string, unknown>): KeeperState {
  const version = s.version ?? 1;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) throw new Error(`version: expected a whole number from 1, got ${JSON.stringify(version)}`);
  if (version > STATE_VERSION) throw new Error(`version ${version}: written by a newer nsvisor (this one reads up to version ${STATE_VERSION})`);
  const exits = noExits();
  const found = s.exits ?? {};
  if (typeof found !== 'object' || Array.isArray(found)) throw new Error(`exits: expected counts by reason, got ${JSON.stringify(found)}`);
  for (const [reason, n] of Object.entries(found as Record<string, unknown>)) {
    if (!(reason in exits)) throw new Error(`exits.${reason}: not an exit reason (${Object.keys(exits).join(', ')})`);
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new Error(`exits.${reason}: expected a count, got ${JSON.stringify(n)}`);
    exits[reason as keyof ExitCounts] = n;
  }
  const settings = s.settings ?? null;
  if (settings !== null && (typeof settings !== 'object' || Array.isArray(settings))) throw new Error(`settings: expected a service's definition, got ${JSON.stringify(settings)}`);
  return { ...(s as unknown as KeeperState), version, exits, settings: settings as ServiceConfig | null };
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
