// What the host checks ask of the machine (HostFacts) and what they answer (HostProblem): the seam the fakes replace.

/** One thing a configuration asks that this host cannot do, at the key it comes from. */
export interface HostProblem {
  /** The service it is about; null for the supervisor section or the host as a whole. */
  service: string | null;
  /** The key, written as the schema problems write it: `services.web.command[0]`. */
  path: string;
  /** What is wrong and how to fix it. */
  message: string;
  /** True when the service can never start here as configured; false when it may clear by itself or still starts. */
  permanent: boolean;
}

/** What is at a path: its type and permission bits (st_mode & 07777). */
export interface FileFacts {
  kind: 'dir' | 'file' | 'symlink' | 'other';
  mode: number;
}

/** Where the services' cgroups can have limits on this host. */
export interface CgroupFacts {
  kind: 'v2' | 'hybrid' | 'v1';
  /** The controllers limits can be written with (v1/hybrid: those mounted; v2: those offered); null when this process cannot tell. */
  controllers: string[] | null;
  /** The file that says so: /proc/self/mountinfo, or the cgroup.controllers / cgroup.subtree_control that decides on v2. */
  listedIn: string;
  /** v2: the cgroup.subtree_control where "+CONTROLLER" offers a controller to them; null on v1 and hybrid. */
  enableIn: string | null;
  /** v2: the parent of the root when it does not exist (the parents mkdir makes enable nothing); else null. */
  missingParent: string | null;
}

/** A listening TCP socket of this network namespace (/proc/net/tcp, tcp6). */
export interface TcpListener {
  family: 4 | 6;
  /** Canonical text: 0.0.0.0, 127.0.0.1, ::, ::1, ::ffff:127.0.0.1. */
  address: string;
  port: number;
  inode: number;
}

/** A process: its pid and its name (/proc/PID/comm). */
export interface ProcessFacts {
  pid: number;
  command: string;
}

/** A live holder of an address lease (src/net/leases.ts): the process and the instance it leased for. */
export interface LeaseHolder {
  pid: number;
  owner: string;
}

export interface HostFacts {
  /** This process: what it holds itself (sockets, leases) is not taken by another. */
  pid: number;
  uid: number;
  gid: number;
  /** First subordinate id of this user (/etc/subuid), for userns "auto". */
  subordinateBase(): number;
  /** The cgroup layout and what the services' cgroups under `cgroupRoot` can be limited with; null without any cgroup file system. */
  cgroups(cgroupRoot: string): CgroupFacts | null;
  /** stat(2): symlinks followed; null when nothing is there. */
  stat(path: string): FileFacts | null;
  /** lstat(2): a symlink is reported as one. */
  lstat(path: string): FileFacts | null;
  readlink(path: string): string | null;
  /** Up to `bytes` bytes from the start of a file; null when it cannot be read. */
  readHead(path: string, bytes: number): Buffer | null;
  /** The whole file as text; throws as fs.readFileSync does (err.code ENOENT, EISDIR, ...). */
  readText(path: string): string;
  /** The live holder of the lease of `address` on bridge `network`, or null. */
  leaseHolder(network: string, address: string): LeaseHolder | null;
  /** Whether a network device of that name is in this network namespace. */
  deviceExists(name: string): boolean;
  tcpListeners(): TcpListener[];
  /** The process holding the socket with this inode, when one can be found (/proc/PID/fd). */
  socketOwner(inode: number): ProcessFacts | null;
}
