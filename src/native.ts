// The one typed contract with the native addon (build/Release/nsvisor.node) and the nsvisor-init executable.
import * as path from 'path';

const buildDir = path.resolve(__dirname, '..', '..', 'build', 'Release');

/** Absolute path of the nsvisor-init executable built beside the addon. */
export const initPath = path.join(buildDir, 'nsvisor-init');

/** A value of one of the addon's C enums; only the addon's exports below produce one, so no bare number passes. */
type NativeEnum<Name extends string> = number & { readonly __nativeEnum: Name };

/** enum nsv_mount_kind (native/spawn.h). */
export type MountKind = NativeEnum<'mount kind'>;
/** enum nsv_create_kind: what the child creates at a missing mount target. */
export type CreateKind = NativeEnum<'create kind'>;
/** enum nsv_time_mode: how a clock of a new time namespace is shifted. */
export type TimeMode = NativeEnum<'time mode'>;

export interface MountKinds {
  bind: MountKind;
  tmpfs: MountKind;
  proc: MountKind;
  mqueue: MountKind;
  /** A fresh sysfs; the mounts under `source` (the host's /sys/fs/cgroup) carried over to `data`. */
  sysfs: MountKind;
  /** A devpts instance of its own, `source` made a symlink to its ptmx. */
  devpts: MountKind;
  /**
   * The host's mount at `source` cloned before any other mount and moved onto `target` (a path inside the final
   * root, not prefixed) after all of them and after pivot_root: how NOTIFY_SOCKET gets past a tmpfs or a rootfs.
   */
  carry: MountKind;
  /** A fresh file system of type `source` with options `data` (cgroup2, or cgroup with its controllers). */
  fs: MountKind;
  /** No mount: a symbolic link at `target` pointing to `source`. */
  symlink: MountKind;
}

export interface CreateKinds {
  never: CreateKind;
  /** The target and its missing parents as directories. */
  directory: CreateKind;
  /** The missing parents as directories, the target as an empty file. */
  file: CreateKind;
}

export interface TimeModes {
  none: TimeMode;
  offset: TimeMode;
  /** The clock starts near 0 inside. */
  fromZero: TimeMode;
}

export interface TimeOffsetRequest {
  mode: TimeMode;
  sec: number;
  nsec: number;
}

export interface MountRequest {
  kind: MountKind;
  source: string | null;
  /** Absolute, as seen before pivot_root (the rootfs already prefixed); for `carry`, the path inside. */
  target: string;
  data: string | null;
  readonly: boolean;
  /** What to create at the target when it is missing. */
  create: CreateKind;
  /** With readonlyRoot: the service's own writable mount, made writable again once the whole tree is read-only. */
  keepWritable?: boolean;
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

/** A service's output pipe, peeked (tee into a scratch pipe) and consumed apart: native/output_pipe_binding.cc. */
export interface OutputPipe {
  /** Calls the constructor's onReadable once, when the pipe holds bytes or has ended. */
  watch(): void;
  /** Up to `max` bytes at the head, left in the pipe; empty when there are none yet, null at the end. */
  peek(max: number): Buffer | null;
  /** Takes `n` bytes from the head; returns how many were there to take. */
  consume(n: number): number;
  available(): number;
  hungUp(): boolean;
  /** Throws away all that comes until the end, then lets go of the fd. */
  discard(): void;
  close(): void;
  /** The most one peek can return. */
  readonly capacity: number;
}

export interface NotifySocket {
  /** Stops reading and removes the socket file. */
  close(): void;
}

interface Addon {
  NotifySocket: new (path: string, onMessage: (text: string) => void) => NotifySocket;
  /** Owns `fd` from then on (made non-blocking). */
  OutputPipe: new (fd: number, onReadable: () => void) => OutputPipe;
  /** One datagram to a service manager's NOTIFY_SOCKET (a path, or @name for an abstract socket); throws naming sendto. */
  sdNotify(socket: string, text: string): void;
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
  /** A pidfd of `pid` (close-on-exec); throws naming pidfd_open. */
  pidfdOpen(pid: number): number;
  /** A copy of the process's fd `fd` in ours (close-on-exec), null when it has none by that number; needs ptrace access. */
  pidfdGetfd(pidfd: number, fd: number): number | null;
  /** The address of a listening stream socket (TCP or unix), null for any other fd. */
  listeningAddress(fd: number): { type: 'tcp'; host: string; port: number } | { type: 'unix'; path: string } | null;
  /** Connects to an orphaned nsvisor-init's adoption socket; does not wait for init to accept (see adoptReceive). */
  adoptOpen(path: string): number;
  /**
   * Takes the hand-over on a connection adoptOpen made (`path` names it in errors): the connection (init's status
   * channel from now on), the read ends of its output pipes (null for one at EOF), the output it kept while
   * orphaned, the lines it dropped, how long it was orphaned. Each read waits at most timeoutMs; on a failure the
   * connection is closed.
   */
  adoptReceive(fd: number, path: string, timeoutMs: number): { fd: number; ackFd: number | null; stdout: number | null; stderr: number | null; held: [Buffer, Buffer]; dropped: [number, number]; orphanedMs: number };
  /** Replaces this process; fds 0-2 and `keepFds` more from 3 are passed on, then `passFds` moved in after them, all others closed. */
  execve(file: string, argv: string[], envp: string[], keepFds?: number, passFds?: number[]): never;
  strerror(errno: number): string;
  /** Throws an Error with .syscall ("open(PATH)", "ioctl(PATH, NS_GET_...)") and .errno (positive). */
  nsInfo(path: string): NsInfo;
  /** Each step's message text, by step id (native/steps.h). */
  stepNames: string[];
  /** Each step's id, by its name in native/steps.h without STEP_. */
  steps: Readonly<Record<StepId, number>>;
  mountKinds: Readonly<MountKinds>;
  createKinds: Readonly<CreateKinds>;
  timeModes: Readonly<TimeModes>;
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
  /**
   * Loads a BPF_PROG_TYPE_CGROUP_DEVICE program (struct bpf_insn[]) and attaches it to a cgroup v2 directory; throws
   * an Error with .syscall, .errno and, when the verifier refused it, .verifierLog.
   */
  attachDeviceProgram(cgroupDir: string, program: Buffer): void;
  recordKinds: { initStarted: number; error: number; execOk: number; reaped: number; mainExit: number };
}

/**
 * The steps of native/steps.h that TypeScript may name (STEP_ left off). The addon may know more; a unit test
 * checks that it knows each of these.
 */
export const STEP_IDS = [
  'SIGNALS', 'PDEATHSIG', 'SYNC', 'FDS', 'SETSID', 'BECOME_ROOT', 'CLEAR_GROUPS', 'UNSHARE_TIME', 'CLOCK',
  'TIME_OFFSETS', 'UNSHARE_CGROUP', 'PROPAGATION', 'ROOTFS_BIND', 'MKDIR', 'MOUNT', 'MOUNT_READONLY', 'CHDIR_ROOTFS',
  'PIVOT_ROOT', 'UMOUNT_OLD_ROOT', 'READONLY_ROOT', 'HOSTNAME', 'DOMAINNAME', 'LOOPBACK', 'CWD', 'EXEC_INIT',
  'INIT_FORK', 'SETGROUPS', 'SETGID', 'SETUID', 'CAP_BOUND', 'KEEPCAPS', 'CAPSET', 'CAP_AMBIENT', 'NO_NEW_PRIVS',
  'EXEC', 'SECCOMP_READ', 'SECCOMP', 'SIGMASK', 'CLOSE_PIPE_ENDS', 'PDEATHSIG_REARM', 'SUPERVISOR_CHECK', 'BECOME_ROOT_GID', 'FDS_DUP',
  'CLOSE_RANGE', 'OPEN_TIME_OFFSETS', 'CLOSE_TIME_OFFSETS', 'LOOPBACK_SOCKET', 'LOOPBACK_FLAGS', 'LOOPBACK_CLOSE',
  'ROOT_PRIVATE', 'CREATE_FILE', 'CGROUP_CLONE', 'CGROUP_MOVE', 'CLOSE_TREE', 'PTMX_LINK', 'CHDIR_NEW_ROOT',
  'CARRY_CLONE', 'CARRY_READONLY', 'CARRY_MOVE', 'KEEP_WRITABLE', 'SYMLINK',
] as const;
export type StepId = (typeof STEP_IDS)[number];

// eslint-disable-next-line @typescript-eslint/no-var-requires
export const addon: Addon = require(path.join(buildDir, 'nsvisor.node'));

/** The addon's C enums by name: the only source of MountRequest.kind, .create and TimeOffsetRequest.mode. */
export const { mountKinds, createKinds, timeModes } = addon;

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
