// The mounts that harden a service's view (SPEC 3): /proc's sensitive files masked, /sys read-only, only its own cgroup, a /dev of its own. Pure.
import { createKinds, mountKinds, MountRequest } from '../native';
import type { PathKind } from './plan';

/** Files of /proc that tell about or reach into the host's kernel: a service sees /dev/null there. */
export const PROC_MASKED_FILES = ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/latency_stats'];
/** Directories of /proc with the host's hardware: an empty read-only tmpfs there. */
export const PROC_MASKED_DIRS = ['/proc/acpi', '/proc/asound', '/proc/scsi'];
/** What of /proc stays visible but read-only: the kernel's tunables and the magic SysRq key. */
export const PROC_READONLY = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** Device nodes a service expects in a /dev of its own; bound from the host's. */
export const DEV_NODES = ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty'];
/** The links every /dev has. */
const DEV_LINKS: [string, string][] = [['/dev/fd', '/proc/self/fd'], ['/dev/stdin', '/proc/self/fd/0'], ['/dev/stdout', '/proc/self/fd/1'], ['/dev/stderr', '/proc/self/fd/2']];

/** A hierarchy of the host's cgroups as mountinfo shows it: where it is mounted, and its controllers (or name=). */
export interface CgroupMount {
  fsType: 'cgroup' | 'cgroup2';
  mountPoint: string;
  /** The super options that name the hierarchy: its controllers, or name=systemd. */
  subsystems: string[];
}

/** Adds a planned mount: the request, the path it has inside, and whether it stays writable under readonlyRoot. */
export type AddMount = (request: MountRequest, inside: string) => void;

const base = { data: null, readonly: false, create: createKinds.never };

/**
 * /proc's sensitive files masked and its tunables read-only, on the /proc the service sees (its own, or the host's in
 * its mount namespace). The same kernel runs inside and out: what the host's /proc has, the service's has too.
 */
export function procMasks(prefix: string, probe: (p: string) => PathKind, add: AddMount): void {
  for (const file of PROC_MASKED_FILES.filter((f) => probe(f) !== null)) {
    add({ ...base, kind: mountKinds.bind, source: '/dev/null', target: `${prefix}${file}`, readonly: true }, file);
  }
  for (const dir of PROC_MASKED_DIRS.filter((d) => probe(d) === 'dir')) {
    add({ ...base, kind: mountKinds.tmpfs, source: null, target: `${prefix}${dir}`, data: 'mode=0555,size=0', readonly: true }, dir);
  }
  for (const p of PROC_READONLY.filter((x) => probe(x) !== null)) {
    add({ ...base, kind: mountKinds.bind, source: `${prefix}${p}`, target: `${prefix}${p}`, readonly: true }, p);
  }
}

/**
 * /sys/fs/cgroup with only the service's own cgroup, read-only: fresh cgroup file systems mounted inside its cgroup
 * namespace show its cgroup as their root. Pure v2: one cgroup2 mount. v1 and hybrid: a tmpfs with each hierarchy
 * mounted where the host has it, then the whole made read-only.
 */
export function cgroupView(prefix: string, hierarchies: CgroupMount[], add: AddMount): void {
  const root = `${prefix}/sys/fs/cgroup`;
  const under = hierarchies.filter((h) => h.mountPoint.startsWith('/sys/fs/cgroup'));
  if (under.length === 1 && under[0].mountPoint === '/sys/fs/cgroup') {
    // The kernel refuses a file system mounted on the root of a mount of itself (EBUSY): a tmpfs goes between
    // them, as /sys carried over still has the host's cgroup2 at /sys/fs/cgroup.
    add({ ...base, kind: mountKinds.tmpfs, source: null, target: root, data: 'mode=0755' }, '/sys/fs/cgroup');
    add({ ...base, kind: mountKinds.fs, source: 'cgroup2', target: root, readonly: true }, '/sys/fs/cgroup');
    return;
  }
  add({ ...base, kind: mountKinds.tmpfs, source: null, target: root, data: 'mode=0755' }, '/sys/fs/cgroup');
  for (const h of under) {
    const data = h.fsType === 'cgroup' ? h.subsystems.join(',') : null;
    add({ ...base, kind: mountKinds.fs, source: h.fsType, target: `${prefix}${h.mountPoint}`, data, create: createKinds.directory, readonly: true }, h.mountPoint);
  }
  // The tmpfs with what is mounted in it, read-only too: bound onto itself, then read-only all the way down.
  add({ ...base, kind: mountKinds.bind, source: root, target: root, readonly: true }, '/sys/fs/cgroup');
}

/**
 * A /dev of its own: a tmpfs with the host's harmless character devices and those of `devices` bound in, the usual
 * links, shm and a devpts instance. Its writable parts stay writable under readonlyRoot.
 */
export function ownDev(prefix: string, devices: string[], probe: (p: string) => PathKind, add: AddMount): void {
  const tmpfs = (inside: string, mode: string) =>
    add({ ...base, kind: mountKinds.tmpfs, source: null, target: `${prefix}${inside}`, data: mode, create: createKinds.directory, keepWritable: true }, inside);
  tmpfs('/dev', 'mode=0755');
  // Carried in (cloned before any mount, placed after pivot_root): without a rootfs the tmpfs covers the host's /dev.
  for (const dev of [...DEV_NODES.filter((d) => probe(d) === 'other'), ...devices]) {
    const create = probe(dev) === 'dir' ? createKinds.directory : createKinds.file;
    add({ ...base, kind: mountKinds.carry, source: dev, target: dev, create }, dev);
  }
  for (const [link, to] of DEV_LINKS) add({ ...base, kind: mountKinds.symlink, source: to, target: `${prefix}${link}` }, link);
  tmpfs('/dev/shm', 'mode=1777');
  const pts = { ...base, kind: mountKinds.devpts, source: `${prefix}/dev/ptmx`, target: `${prefix}/dev/pts`, create: createKinds.directory, keepWritable: true };
  add({ ...pts, data: 'newinstance,ptmxmode=0666,mode=0620' }, '/dev/pts');
}
