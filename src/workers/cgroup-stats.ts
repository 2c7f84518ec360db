// Piscina task: read and parse the stats files of a batch of cgroups, off the supervisor's event loop.
import * as fs from 'fs';

import type { StatsTarget } from '../cgroup/driver';
import { CgroupStats, FileTexts, statsV1, statsV2, V1_FILES, V2_FILES } from '../cgroup/stats';

function read(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null; // absent (controller not enabled) or the cgroup went away meanwhile
  }
}

export function statsOf(target: StatsTarget): CgroupStats {
  const files: FileTexts = {};
  if (target.kind === 'v2') {
    for (const f of V2_FILES) files[f] = read(`${target.dirs.v2}/${f}`);
    return statsV2(files);
  }
  for (const [controller, names] of Object.entries(V1_FILES)) {
    const dir = target.dirs[controller];
    if (dir) for (const f of names) files[f] = read(`${dir}/${f}`);
  }
  return statsV1(files);
}

/** The task: one result per target, in order; a target whose files are gone gives all-null stats. */
export default function collect(targets: StatsTarget[]): CgroupStats[] {
  return targets.map(statsOf);
}
