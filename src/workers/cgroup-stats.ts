// Piscina task: read and parse the stats files of a batch of cgroups, off the supervisor's event loop.
import * as fs from 'fs';

import type { StatsTarget } from '../cgroup/driver';
import { CgroupStats, collectionFiles, FileTexts, statsV1, statsV2, V1_FALLBACK_FILE, V1_LIMIT_FILES, V2_LIMIT_FILES } from '../cgroup/stats';

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

/** The figures of one cgroup: held files by fd, the rest by path; the limit files unless the target says the caller has them. */
export function statsOf(target: StatsTarget): CgroupStats {
  const files: FileTexts = {};
  for (const { name, path } of collectionFiles(target.dirs, target.kind)) {
    const fd = target.fds?.[name];
    files[name] = fd === undefined ? read(path) : fd === null ? null : readFd(fd);
  }
  if (!target.skipLimits) {
    const limits = target.kind === 'v2' ? { v2: V2_LIMIT_FILES } : V1_LIMIT_FILES;
    for (const [controller, names] of Object.entries(limits)) {
      const dir = target.dirs[controller];
      if (dir) for (const f of names) files[f] = read(`${dir}/${f}`);
    }
  }
  if (target.kind === 'v2') return statsV2(files);
  if (files['cpuacct.usage_all'] === null && target.dirs.cpuacct) files[V1_FALLBACK_FILE] = read(`${target.dirs.cpuacct}/${V1_FALLBACK_FILE}`);
  return statsV1(files);
}

/** The task: one result per target, in order; a target whose files are gone gives all-null stats. */
export default function collect(targets: StatsTarget[]): CgroupStats[] {
  return targets.map(statsOf);
}
