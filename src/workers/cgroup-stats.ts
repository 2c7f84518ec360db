// Piscina task: read and parse the stats files of a batch of cgroups, off the supervisor's event loop.
import * as fs from 'fs';

import type { StatsTarget } from '../cgroup/driver';
import { BRIEF_FILES, CgroupStats, COUNTER_FILES, CollectedStats, collectionFiles, FileTexts, statsV1, statsV2, V1_FALLBACK_FILE, V1_LIMIT_FILES, V2_LIMIT_FILES } from '../cgroup/stats';

/** One buffer for every read of this thread: cgroup files are small, and their size is not known before reading. */
const buffer = Buffer.allocUnsafe(64 * 1024);

/** The text of an open cgroup file, from its start: the kernel makes it afresh at each read from offset 0. */
function readFd(fd: number): string | null {
  try {
    const n = fs.readSync(fd, buffer, 0, buffer.length, 0);
    return n < buffer.length ? buffer.toString('latin1', 0, n) : null; // no stats file is this large
  } catch {
    return null; // the cgroup went away meanwhile
  }
}

/** Opens the files to hold: their fds by name (null: absent); undefined when one fails otherwise (EMFILE), nothing left open. */
function openAll(files: { name: string; path: string }[]): Record<string, number | null> | undefined {
  const fds: Record<string, number | null> = {};
  for (const { name, path } of files) {
    try {
      fds[name] = fs.openSync(path, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        fds[name] = null;
        continue;
      }
      for (const fd of Object.values(fds)) if (fd !== null) fs.closeSync(fd);
      return undefined;
    }
  }
  return fds;
}

function read(file: string): string | null {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return null; // absent (controller not enabled) or the cgroup went away meanwhile
  }
  try {
    return readFd(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The figures of one cgroup: held files by fd, the rest by path; the limit files unless the target says the
 * caller has them. A target that asks to hold its files gets their fds back with the figures.
 */
export function statsOf(target: StatsTarget): CollectedStats {
  if (target.brief) return someStatsOf(target, BRIEF_FILES);
  if (target.counters) return someStatsOf(target, COUNTER_FILES);
  const files: FileTexts = {};
  const list = collectionFiles(target.dirs, target.kind);
  const opened = target.hold ? openAll(list) : undefined;
  const fds = target.fds ?? opened;
  for (const { name, path } of list) {
    const fd = fds?.[name];
    files[name] = fd === undefined ? read(path) : fd === null ? null : readFd(fd);
  }
  if (!target.skipLimits) {
    const limits = target.kind === 'v2' ? { v2: V2_LIMIT_FILES } : V1_LIMIT_FILES;
    for (const [controller, names] of Object.entries(limits)) {
      const dir = target.dirs[controller];
      if (dir) for (const f of names) files[f] = read(`${dir}/${f}`);
    }
  }
  if (target.kind === 'v1' && files['cpuacct.usage_all'] === null && target.dirs.cpuacct) files[V1_FALLBACK_FILE] = read(`${target.dirs.cpuacct}/${V1_FALLBACK_FILE}`);
  const stats: CollectedStats = target.kind === 'v2' ? statsV2(files) : statsV1(files);
  if (opened) stats.fds = opened;
  return stats;
}

/**
 * Only the figures of one of the short lists, read by path: a status of 1,000 services reads 3 files of each cgroup
 * (BRIEF_FILES), the end of an instance those of its counters (COUNTER_FILES), not 14.
 */
function someStatsOf(target: StatsTarget, lists: typeof BRIEF_FILES): CgroupStats {
  const files: FileTexts = {};
  for (const [controller, names] of Object.entries(lists[target.kind])) {
    const dir = target.dirs[controller];
    if (dir) for (const f of names) files[f] = read(`${dir}/${f}`);
  }
  if (target.kind === 'v1' && lists === COUNTER_FILES && files['cpuacct.usage_all'] === null && target.dirs.cpuacct) files[V1_FALLBACK_FILE] = read(`${target.dirs.cpuacct}/${V1_FALLBACK_FILE}`);
  return target.kind === 'v2' ? statsV2(files) : statsV1(files);
}

/** The task: one result per target, in order; a target whose files are gone gives all-null stats. */
export default function collect(targets: StatsTarget[]): CgroupStats[] {
  return targets.map(statsOf);
}
