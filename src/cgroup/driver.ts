// The one cgroup driver interface the sandbox and the supervisor use, whatever the host's layout.
import type { Layout } from './detect';
import type { DeviceRule } from '../security/device-rules';
import type { Limits } from './limits';

/** How a new process gets into a service's cgroup before its first instruction. */
export interface Placement {
  /** A cgroup2 directory: open it and pass the fd to clone3 (CLONE_INTO_CGROUP). Null on pure v1. */
  cloneInto: string | null;
  /** cgroup.procs files (v1) the parent writes the child's pid into before letting it go. */
  procsFiles: string[];
}

/** What the stats worker reads: the kind of files and the directory of each hierarchy. */
export interface StatsTarget {
  kind: 'v2' | 'v1';
  /** v2: { v2: dir }; v1: { memory, cpu, cpuacct, pids, unified? } directories. */
  dirs: Record<string, string>;
  /** Leave the limit files out (the figures come back null): the caller read them recently. */
  skipLimits?: boolean;
  /**
   * Files of collectionFiles() the caller holds open, by name: read at offset 0 (one pread each) instead of
   * opened by path. null: the file does not exist for this cgroup. A name not here is read by its path.
   */
  fds?: Record<string, number | null>;
  /** Read only BRIEF_FILES (the figures of a status): a figure from any other file comes back null; fds and hold unused. */
  brief?: boolean;
  /** Read only COUNTER_FILES (the last figures of an ended instance): the gauges come back null; fds and hold unused. */
  counters?: boolean;
  /** Open the files of collectionFiles() and keep them open: their fds come back with the figures (CollectedStats). */
  hold?: boolean;
}

/** One service's cgroup (in each hierarchy the layout has). */
export interface CgroupHandle {
  readonly name: string;
  /** The cgroup's path inside each hierarchy, as /proc/PID/cgroup shows it: "/nsvisor/web". */
  readonly path: string;
  readonly placement: Placement;
  readonly statsTarget: StatsTarget;
  /** Every directory of this cgroup, one per hierarchy. */
  readonly dirs: string[];
  setLimits(limits: Limits): void;
  /** Takes the limits of a running cgroup from `prev` to `next` (a limit taken away goes back to unlimited). */
  updateLimits(prev: Limits, next: Limits): void;
  /** Lets the processes of the cgroup open only the devices the rules allow (v1 devices.allow, v2 a BPF program). */
  restrictDevices(rules: readonly DeviceRule[]): void;
  /** The OOM killer's kill count for this cgroup (memory.events oom_kill / memory.oom_control oom_kill). */
  oomKills(): number;
  /** Host pids of the processes in the cgroup. */
  pids(): number[];
  freeze(): Promise<void>;
  thaw(): void;
  /** SIGKILLs everything in the cgroup (atomically where the kernel can) and waits until it is empty. */
  kill(): Promise<void>;
  /** Removes the cgroup from every hierarchy, after a kill() when something is still in it. */
  destroy(): Promise<void>;
}

export interface CgroupDriver {
  readonly layout: Layout;
  /** The root as configured: "/nsvisor", or "self". */
  readonly root: string;
  /** The root's path inside each hierarchy (for "self", our own cgroup's). */
  readonly rootPath: string;
  /** Creates <root>/<name> with the limits applied; an error names the file the kernel refused. */
  create(name: string, limits: Limits): CgroupHandle;
  /** The handle of an existing <root>/<name> (it is not checked to exist). */
  open(name: string): CgroupHandle;
  /** Names of the service cgroups under the root. */
  list(): string[];
  /** Kills and removes every service cgroup under the root (left over from a crashed supervisor) but those in `keep` (adopted); returns their names. */
  cleanupStale(keep?: ReadonlySet<string>): Promise<string[]>;
  /** cleanupStale(), then removes the root itself (tests and benchmarks with a root of their own). */
  removeRoot(): Promise<void>;
}

/** A service name usable as a cgroup directory. */
export function checkName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name) || name.length > 200) {
    throw new Error(`cgroup name "${name}": expected letters, digits, "_", "." and "-"`);
  }
}

/** A sandbox's cgroup (sandbox-PID-N) whose `nsvisor sandbox` process still runs: not a leftover, whoever looks. */
export function liveSandbox(name: string): boolean {
  const m = /^sandbox-(\d+)-\d+$/.exec(name);
  if (!m) return false;
  try {
    process.kill(Number(m[1]), 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Which cgroups under a root are leftovers: not a running sandbox's, nor one in `keep` (instances taken over). */
export const leftover = (keep?: ReadonlySet<string>) => (name: string) => !liveSandbox(name) && !keep?.has(name);

/**
 * Destroys every cgroup under the driver's root (what a supervisor that died left) but those of sandboxes still
 * running, or only those `which` accepts; returns their names.
 */
export async function destroyAll(driver: Pick<CgroupDriver, 'list' | 'open'>, which: (name: string) => boolean = (n) => !liveSandbox(n)): Promise<string[]> {
  const names = driver.list().filter(which);
  for (const n of names) await driver.open(n).destroy();
  return names;
}
