// The shapes of the namespace listing: a process's links, a namespace grouped from them, and a listed row.
import type { NsInfo, NsType } from '../native';

export type { NsType };

/** The namespace types nsvisor lists, in /proc/PID/ns order (the *_for_children links are left out). */
export const NS_TYPES: readonly NsType[] = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts'];

/** One /proc/PID/ns/TYPE link: "pid:[4026531836]". */
export interface NsLink {
  type: NsType;
  inode: number;
}

/** The namespaces one process is in. */
export interface ProcessNs {
  pid: number;
  links: NsLink[];
}

/** One namespace and every process seen in it, pids ascending. */
export interface NsGroup {
  inode: number;
  type: NsType;
  pids: number[];
}

/** The sample process shown for a namespace (the lowest pid that could be read), as lsns shows it. */
export interface SampleProcess {
  pid: number;
  user: string;
  command: string;
}

/** One row of `nsvisor ns`: the JSON object of `--json`, key for key. */
export interface NsEntry {
  inode: number;
  type: NsType;
  nprocs: number;
  pid: number;
  user: string;
  command: string;
  userns: number | null;
  parent: number | null;
  ownerUid: number | null;
}

/** Everything the listing reads from the system; src/ns/proc.ts reads the real /proc, tests give their own. */
export interface NsSource {
  /** Every pid of /proc, ascending. */
  pids(): number[];
  /** Throws ENOENT when the process is gone, EACCES when its namespaces are not ours to read. */
  links(pid: number): NsLink[];
  /** Owner and command line of a process; throws like links(). */
  process(pid: number): { uid: number; command: string };
  /** ioctl_ns(2) on /proc/PID/ns/TYPE; throws like links() (native errors carry a positive .errno). */
  info(pid: number, type: NsType): NsInfo;
  /** Login name of a uid, or the uid as a string. */
  userName(uid: number): string;
}
