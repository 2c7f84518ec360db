// Pure grouping for nsvisor ns: processes' links → one group per namespace inode, with its processes.
import { NsGroup, ProcessNs } from './types';

/** One group per inode, sorted by inode; each group's pids ascending, so pids[0] is the lsns sample. */
export function groupByInode(processes: ProcessNs[]): NsGroup[] {
  const groups = new Map<number, NsGroup>();
  for (const { pid, links } of processes) {
    for (const { type, inode } of links) {
      let g = groups.get(inode);
      if (!g) groups.set(inode, (g = { inode, type, pids: [] }));
      if (!g.pids.includes(pid)) g.pids.push(pid);
    }
  }
  const out = [...groups.values()].sort((a, b) => a.inode - b.inode);
  for (const g of out) g.pids.sort((a, b) => a - b);
  return out;
}

/** The groups whose inode is one of `inodes` (the namespaces of one process), in the same order. */
export function restrictTo(groups: NsGroup[], inodes: Iterable<number>): NsGroup[] {
  const wanted = new Set(inodes);
  return groups.filter((g) => wanted.has(g.inode));
}
