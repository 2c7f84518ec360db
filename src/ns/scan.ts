// Builds the rows of nsvisor ns from an NsSource: group every process's namespaces, then describe each with a sample process.
import { groupByInode, restrictTo } from './group';
import { quietly } from './quiet';
import { NsEntry, NsGroup, NsSource, ProcessNs } from './types';

/** Every readable process's namespace links; processes that vanish or deny access are skipped. */
export function readAllProcesses(source: NsSource): ProcessNs[] {
  const out: ProcessNs[] = [];
  for (const pid of source.pids()) {
    const links = quietly(() => source.links(pid));
    if (links && links.length > 0) out.push({ pid, links });
  }
  return out;
}

/**
 * The row of one namespace: its relations and the lowest pid that can still be read as the sample.
 * null when every process of the group has gone (or moved to another namespace) since the scan.
 */
export function describeGroup(source: NsSource, group: NsGroup): NsEntry | null {
  for (const pid of group.pids) {
    const info = quietly(() => source.info(pid, group.type));
    if (!info || info.inode !== group.inode) continue;
    const proc = quietly(() => source.process(pid));
    if (!proc) continue;
    return {
      inode: group.inode,
      type: info.type,
      nprocs: group.pids.length,
      pid,
      user: source.userName(proc.uid),
      command: proc.command,
      userns: info.userns,
      parent: info.parent,
      ownerUid: info.ownerUid,
    };
  }
  return null;
}

function describeAll(source: NsSource, groups: NsGroup[]): NsEntry[] {
  return groups.map((g) => describeGroup(source, g)).filter((e): e is NsEntry => e !== null);
}

/** Every namespace of the host (as far as we can read), sorted by inode. */
export function listNamespaces(source: NsSource): NsEntry[] {
  return describeAll(source, groupByInode(readAllProcesses(source)));
}

/**
 * The namespaces of one process, with the process counts of each across the host.
 * Errors reading that process's links go to the caller (ENOENT: no such process; EACCES: not ours).
 */
export function namespacesOfPid(source: NsSource, pid: number): NsEntry[] {
  const own = source.links(pid);
  const processes = readAllProcesses(source);
  // The target may have been skipped by the scan (it just exited): still count it in its own namespaces.
  if (!processes.some((p) => p.pid === pid)) processes.push({ pid, links: own });
  return describeAll(source, restrictTo(groupByInode(processes), own.map((l) => l.inode)));
}
