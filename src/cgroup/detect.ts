// Which cgroup layout this host has (pure v2, hybrid, pure v1) and where each hierarchy is mounted, from mountinfo.
import * as fs from 'fs';

/** The v1 controllers nsvisor uses: limits, accounting, freezing, the device allow-list. */
export const V1_CONTROLLERS = ['memory', 'cpu', 'cpuacct', 'pids', 'freezer', 'devices'] as const;
export type V1Controller = (typeof V1_CONTROLLERS)[number];

export interface Layout {
  kind: 'v2' | 'hybrid' | 'v1';
  /** Mount point of the cgroup2 hierarchy, if any (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid). */
  unified: string | null;
  /** Mount point of each v1 controller nsvisor uses (cpu and cpuacct may share one). */
  v1: Partial<Record<V1Controller, string>>;
  /** Our own cgroup in each hierarchy, from /proc/self/cgroup: "" is the v2 one, else the controller name. */
  self: Record<string, string>;
  /**
   * The cgroup each mount shows at its mount point (mountinfo's root field), keyed as `self`: "/" on a host, the
   * container's own cgroup where a runtime bind-mounts only that (v1 without a cgroup namespace). Absent: "/".
   */
  mountRoots?: Record<string, string>;
}

/** Unescapes the octal escapes of mountinfo (\040 is a space). */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The cgroup mounts of a mountinfo text: mount point, fs type, super options. The first mount of each hierarchy wins. */
export function cgroupMounts(mountinfo: string): { mountPoint: string; fsType: string; options: string[]; root: string }[] {
  const out: { mountPoint: string; fsType: string; options: string[]; root: string }[] = [];
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const [fsType, , superOpts = ''] = line.slice(sep + 3).split(' ');
    if (fsType !== 'cgroup' && fsType !== 'cgroup2') continue;
    out.push({ mountPoint: unescape(left[4]), fsType, options: superOpts.split(','), root: unescape(left[3]) });
  }
  return out;
}

/** "/proc/self/cgroup" -> { "": "/path" for v2, "memory": "/path", "cpu": ..., "cpuacct": ... }. */
export function parseProcCgroup(text: string): Record<string, string> {
  const self: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[2] === '') self[''] = m[3];
    else for (const c of m[2].split(',')) self[c] = m[3];
  }
  return self;
}

export function layoutFrom(mountinfo: string, procCgroup: string): Layout {
  let unified: string | null = null;
  const v1: Partial<Record<V1Controller, string>> = {};
  const mountRoots: Record<string, string> = {};
  for (const m of cgroupMounts(mountinfo)) {
    if (m.fsType === 'cgroup2') {
      if (unified === null) [unified, mountRoots['']] = [m.mountPoint, m.root];
      continue;
    }
    for (const c of V1_CONTROLLERS) {
      if (!m.options.includes(c) || v1[c]) continue;
      [v1[c], mountRoots[c]] = [m.mountPoint, m.root];
    }
  }
  const hasV1 = Object.keys(v1).length > 0;
  if (!unified && !hasV1) throw new Error('/proc/self/mountinfo: no cgroup or cgroup2 file system is mounted');
  return { kind: !hasV1 ? 'v2' : unified ? 'hybrid' : 'v1', unified, v1, self: parseProcCgroup(procCgroup), mountRoots };
}

/**
 * Our own cgroup in hierarchy `key` ("" for v2, else a v1 controller) as a path below that hierarchy's mount point.
 * /proc/self/cgroup names it from the hierarchy's root (or the cgroup namespace's); a container runtime may mount
 * only a subtree, whose root mountinfo gives: that prefix is taken off.
 */
export function selfInMount(layout: Layout, key: string): string {
  const self = layout.self[key] ?? '/';
  const root = layout.mountRoots?.[key] ?? '/';
  if (root === '/') return self;
  if (self === root) return '/';
  if (self.startsWith(`${root}/`)) return self.slice(root.length);
  const where = key === '' ? 'cgroup2' : `the ${key} controller`;
  throw new Error(`/proc/self/cgroup: our cgroup ${self} (${where}) is not below ${root}, the part of the tree /proc/self/mountinfo shows mounted`);
}

/** The directory of our own cgroup in hierarchy `key`, mounted at `mount` (no trailing "/" when it is the mount point). */
export function selfDir(layout: Layout, key: string, mount: string): string {
  const rel = selfInMount(layout, key);
  return rel === '/' ? mount : `${mount.replace(/\/$/, '')}${rel}`;
}

let cached: Layout | null = null;

/** The layout of this host, read once. */
export function detectLayout(): Layout {
  cached ??= layoutFrom(fs.readFileSync('/proc/self/mountinfo', 'utf8'), fs.readFileSync('/proc/self/cgroup', 'utf8'));
  return cached;
}
