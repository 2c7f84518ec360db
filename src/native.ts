// The one typed contract with the native addon (build/Release/nsvisor.node) and the nsvisor-init executable.
import * as path from 'path';

const buildDir = path.resolve(__dirname, '..', '..', 'build', 'Release');

/** Absolute path of the nsvisor-init executable built beside the addon. */
export const initPath = path.join(buildDir, 'nsvisor-init');

export interface TimeOffsetRequest {
  /** 0 none, 1 fixed offset, 2 from zero (the clock starts near 0 inside). */
  mode: 0 | 1 | 2;
  sec: number;
  nsec: number;
}

export interface MountRequest {
  /** 1 bind, 2 tmpfs, 3 proc, 4 mqueue, 5 sysfs (the mounts under `source` carried over to `data`), 6 devpts (`source` linked to its ptmx). */
  kind: 1 | 2 | 3 | 4 | 5 | 6;
  source: string | null;
  /** Absolute, as seen before pivot_root (the rootfs already prefixed). */
  target: string;
  data: string | null;
  readonly: boolean;
  /** Create the target when missing: 0 never, 1 a directory, 2 an empty file. */
  create: 0 | 1 | 2;
}

/** Everything the clone child needs, decided in advance (see native/spawn.h). */
export interface SpawnRequest {
  cloneFlags: number;
  unshareTime: boolean;
  monotonic: TimeOffsetRequest;
  boottime: TimeOffsetRequest;
  unshareCgroup: boolean;
  /** A cgroup2 directory fd: clone3(CLONE_INTO_CGROUP) starts the child in that cgroup. Absent/null: the caller's. */
  cgroupFd?: number | null;
  /** In a new user namespace that maps 0: become its root once the maps are written. */
  becomeRoot: boolean;
  /** Drop the caller's supplementary groups (only where setgroups is allowed). */
  clearGroups: boolean;
  stdio: [number, number, number];
  passFds: number[];
  newSession: boolean;
  propagation: number;
  rootfs: string | null;
  readonlyRoot: boolean;
  mounts: MountRequest[];
  hostname: string | null;
  domainname: string | null;
  loopbackUp: boolean;
  cwd: string | null;
  initPath: string;
  argv: string[];
  envp: string[];
}

export interface SpawnedChild {
  pid: number;
  pidfd: number;
  /** Write one byte to let the child go on; close it without writing to abort. */
  syncFd: number;
  /** Records from the child and nsvisor-init; EOF once the service command has executed. */
  statusFd: number;
  /** Frees the child's stack and request: only once it has executed nsvisor-init or ended. */
  job: { release(): void };
}

/** Namespace types by their /proc/PID/ns names. */
export type NsType = 'cgroup' | 'ipc' | 'mnt' | 'net' | 'pid' | 'time' | 'user' | 'uts';

/** What ioctl_ns(2) says about one namespace file (native/nsinfo.c). */
export interface NsInfo {
  /** From NS_GET_NSTYPE. */
  type: NsType;
  inode: number;
  /** Inode of the owning user namespace (NS_GET_USERNS); null when it is outside our reach (EPERM). */
  userns: number | null;
  /** Inode of the parent (NS_GET_PARENT), pid and user namespaces only; null when outside our reach or not applicable. */
  parent: number | null;
  /** NS_GET_OWNER_UID, user namespaces only, as seen from our user namespace. */
  ownerUid: number | null;
}

export interface PidfdWatch {
  close(): void;
}

export interface NotifySocket {
  /** Stops reading and removes the socket file. */
  close(): void;
}

interface Addon {
  NotifySocket: new (path: string, onMessage: (text: string) => void) => NotifySocket;
  /** A TCP socket fd made in the network namespace of `pid`, for readiness probes. */
  netnsSocket(pid: number): number;
  /** A listening TCP socket on a numeric IPv4/IPv6 address (SO_REUSEADDR, close-on-exec); throws naming the call. */
  listenTcp(address: string, port: number, backlog: number): number;
  /** A listening unix socket at `path` with `mode`; a stale socket file there is replaced. */
  listenUnix(path: string, backlog: number, mode: number): number;
  /** [readFd, writeFd], close-on-exec. */
  pipe(): [number, number];
  /** Reaps `pid` if it is an exited child of ours; null while it runs or when it is not our child. */
  reap(pid: number): { code: number | null; signal: number | null } | null;
  spawn(req: SpawnRequest): SpawnedChild;
  PidfdWatch: new (pidfd: number, onExit: (code: number | null, signal: number | null) => void) => PidfdWatch;
  sendSignal(pidfd: number, signal: number): boolean;
  /** Replaces this process; fds 0-2 and `keepFds` more from 3 are passed on, all others closed. */
  execve(file: string, argv: string[], envp: string[], keepFds?: number): never;
  strerror(errno: number): string;
  /** Throws an Error with .syscall ("open(PATH)", "ioctl(PATH, NS_GET_...)") and .errno (positive). */
  nsInfo(path: string): NsInfo;
  stepNames: string[];
  /**
   * rtnetlink (native/netlink.c). Addresses are IPv4 as 32-bit unsigned numbers; pid 0 means our own network
   * namespace. Failures throw an Error with .syscall naming the step ("RTM_NEWLINK veth nsv-web-h") and .errno.
   */
  /** Creates the bridge unless present, puts the address on it, sets it up; true when it was created. */
  netBridgeEnsure(name: string, address: number, prefix: number): boolean;
  /** A veth pair: `host` on `bridge` and up; the peer made in the network namespace of `pid` as `peer`. */
  netVethAdd(host: string, bridge: string, pid: number, peer: string): void;
  /**
   * Moves a link into the network namespace of `pid`, renamed when newName is given. The link is looked up in our
   * namespace, or in the one `fromNsFd` (an open /proc/PID/ns/net) refers to.
   */
  netLinkMove(name: string, pid: number, newName: string | null, fromNsFd?: number): void;
  /** In the namespace of `pid`: address (0 = none) on `ifname`, the link up, lo up, default route via gateway (0 = none); one sendmsg after the index lookup. */
  netConfigure(pid: number, ifname: string, address: number, prefix: number, gateway: number): void;
  /** false when there is no such link. */
  netLinkDelete(name: string, pid: number): boolean;
  netLinkIndex(name: string, pid: number): number | null;
  /** Byte counters of every link but lo in the namespace of `pid`. */
  netLinkStats(pid: number): { name: string; rxBytes: number; txBytes: number }[];
  recordKinds: { initStarted: number; error: number; execOk: number; reaped: number; mainExit: number };
}

// eslint-disable-next-line @typescript-eslint/no-var-requires
export const addon: Addon = require(path.join(buildDir, 'nsvisor.node'));

/** Linux clone flags for the namespaces (include/uapi/linux/sched.h). */
export const CLONE = {
  NEWTIME: 0x00000080,
  NEWNS: 0x00020000,
  NEWCGROUP: 0x02000000,
  NEWUTS: 0x04000000,
  NEWIPC: 0x08000000,
  NEWUSER: 0x10000000,
  NEWPID: 0x20000000,
  NEWNET: 0x40000000,
} as const;

/** Mount propagation flags (include/uapi/linux/mount.h). */
export const MS = { PRIVATE: 1 << 18, SLAVE: 1 << 19, SHARED: 1 << 20 } as const;
