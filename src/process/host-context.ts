// The facts about the calling process and host that a SpawnPlan and the host checks depend on, gathered in one place.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { cgroupMounts, detectLayout, Layout, selfInMount } from '../cgroup/detect';
import { parseIPv4 } from '../config/addresses';
import type { CgroupFacts, FileFacts, HostFacts, ProcessFacts } from '../config/host-checks-facts';
import { parseProcNetTcp } from '../config/host-checks-tcp';
import { initPath } from '../native';
import { LeaseDir } from '../net/leases';
import type { CgroupMount } from '../spawn-plan/hardening';
import type { PathKind, SpecContext } from '../spawn-plan/plan';
import { turnMemo } from './turn-memo';

/** What is at `p` (following links), or null; asked once per path in a turn (see turnMemo). */
export const probePath = turnMemo((p: string): PathKind => {
  try {
    const st = fs.statSync(p);
    return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
  } catch {
    return null;
  }
});

/** First subordinate id of the calling user in /etc/subuid, or 100000 (the usual first range). */
export function subordinateBase(file = '/etc/subuid'): number {
  const user = os.userInfo();
  try {
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const [who, start] = line.split(':');
      if ((who === user.username || who === String(user.uid)) && /^\d+$/.test(start ?? '')) return Number(start);
    }
  } catch {
    /* no /etc/subuid: use the usual default */
  }
  return 100000;
}

/** Super options of a cgroup mount that are not what names the hierarchy. */
const GENERIC_CGROUP_OPTIONS = new Set(['rw', 'ro', 'noprefix', 'clone_children', 'xattr', 'cpuset_v2_mode', 'favordynmods', 'nsdelegate', 'memory_recursiveprot', 'memory_localevents', 'memory_hugetlb_accounting']);

let hierarchies: CgroupMount[] | null = null;

/** The host's cgroup hierarchies (the first mount of each), read once from /proc/self/mountinfo. */
export function hostCgroupMounts(mountinfo?: string): CgroupMount[] {
  if (mountinfo === undefined && hierarchies) return hierarchies;
  const seen = new Set<string>();
  const out: CgroupMount[] = [];
  for (const m of cgroupMounts(mountinfo ?? fs.readFileSync('/proc/self/mountinfo', 'utf8'))) {
    const subsystems = m.fsType === 'cgroup' ? m.options.filter((o) => !GENERIC_CGROUP_OPTIONS.has(o) && !o.startsWith('release_agent=')) : [];
    const key = `${m.fsType} ${subsystems.join(',')}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ fsType: m.fsType as CgroupMount['fsType'], mountPoint: m.mountPoint, subsystems });
  }
  if (mountinfo === undefined) hierarchies = out;
  return out;
}

export function hostContext(over: Partial<SpecContext> & Pick<SpecContext, 'name'>): SpecContext {
  return {
    baseEnv: {},
    defaultCwd: '/',
    uid: process.geteuid!(),
    gid: process.getegid!(),
    subordinateBase: () => subordinateBase(),
    mapRoot: false,
    initPath,
    stdio: [0, 1, 2],
    passFds: [],
    newSession: false,
    probe: probePath,
    cgroupMounts: hostCgroupMounts(),
    ...(Object.fromEntries(Object.entries(over).filter(([, v]) => v !== undefined)) as typeof over),
  };
}

/** Facts about a path from a stat(2) result. */
function factsOf(st: fs.Stats): FileFacts {
  const kind = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other';
  return { kind, mode: st.mode & 0o7777 };
}

function orNull<T>(f: () => T): T | null {
  try {
    return f();
  } catch {
    return null;
  }
}

const words = (text: string | null) => (text ?? '').split(/\s+/).filter(Boolean);

/**
 * The controllers the v2 driver's services get under `rootPath` (src/cgroup/v2.ts): the root cgroup, once it exists,
 * enables for its children whatever it is offered (its cgroup.controllers); until it exists, mkdir gives it what its
 * parent enables (cgroup.subtree_control). A root further down is made with parents that enable nothing.
 */
export function v2Offer(unified: string, rootPath: string, read: (file: string) => string | null): CgroupFacts {
  const rootDir = path.posix.join(unified, rootPath);
  const parent = path.posix.dirname(rootDir);
  const enableIn = `${parent}/cgroup.subtree_control`;
  const own = read(`${rootDir}/cgroup.controllers`);
  if (own !== null) return { kind: 'v2', controllers: words(own), listedIn: `${rootDir}/cgroup.controllers`, enableIn, missingParent: null };
  const fromParent = read(enableIn);
  return { kind: 'v2', controllers: words(fromParent), listedIn: enableIn, enableIn, missingParent: fromParent === null ? parent : null };
}

/**
 * Where the services' cgroups go under `root` (supervisor.cgroupRoot), and what they can be limited with. With
 * root "self" on v2 only the supervisor itself can tell (its own cgroup decides): elsewhere the answer is null.
 */
export function cgroupFacts(root: string, layout: Layout, read: (file: string) => string | null, isSupervisor: boolean): CgroupFacts {
  const v1 = { listedIn: '/proc/self/mountinfo', enableIn: null, missingParent: null };
  if (layout.kind !== 'v2') return { kind: layout.kind, controllers: Object.keys(layout.v1), ...v1 };
  if (root === 'self' && !isSupervisor) return { kind: 'v2', controllers: null, listedIn: '', enableIn: null, missingParent: null };
  return v2Offer(layout.unified!, root === 'self' ? selfInMount(layout, '') : root, read);
}

/** pid -> name of every process holding socket inode N, from /proc/PID/fd (the processes this user may look into). */
function socketOwners(): Map<number, ProcessFacts> {
  const owners = new Map<number, ProcessFacts>();
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    const fds = orNull(() => fs.readdirSync(`/proc/${pid}/fd`)) ?? [];
    for (const fd of fds) {
      const m = /^socket:\[(\d+)\]$/.exec(orNull(() => fs.readlinkSync(`/proc/${pid}/fd/${fd}`)) ?? '');
      if (!m || owners.has(Number(m[1]))) continue;
      const command = (orNull(() => fs.readFileSync(`/proc/${pid}/comm`, 'utf8')) ?? '?').trim();
      owners.set(Number(m[1]), { pid: Number(pid), command });
    }
  }
  return owners;
}

/**
 * This machine, as the host checks see it. `isSupervisor`: the caller is the supervisor itself, whose own cgroup is
 * the one "self" names.
 */
export function realHostFacts(opts: { isSupervisor?: boolean } = {}): HostFacts {
  const read = (file: string) => orNull(() => fs.readFileSync(file, 'utf8'));
  let owners: Map<number, ProcessFacts> | null = null;
  return {
    pid: process.pid,
    uid: process.geteuid!(),
    gid: process.getegid!(),
    subordinateBase: () => subordinateBase(),
    cgroups: (root) => {
      const layout = orNull(detectLayout);
      return layout && cgroupFacts(root, layout, read, opts.isSupervisor ?? false);
    },
    // The checks of 1,000 services look at the same paths (each plan's /proc and /dev): once each in a check.
    stat: turnMemo((p) => orNull(() => factsOf(fs.statSync(p)))),
    lstat: turnMemo((p) => orNull(() => factsOf(fs.lstatSync(p)))),
    readlink: (p) => orNull(() => fs.readlinkSync(p)),
    readHead: (p, bytes) => orNull(() => readHead(p, bytes)),
    readText: (p) => fs.readFileSync(p, 'utf8'),
    leaseHolder: (network, address) => {
      const n = parseIPv4(address);
      const h = n === null ? null : new LeaseDir(network).holder(n);
      return h?.live ? { pid: h.pid, owner: h.owner } : null;
    },
    deviceExists: (name) => (read('/proc/net/dev') ?? '').split('\n').slice(2).some((line) => line.split(':')[0].trim() === name),
    tcpListeners: () => ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((f) => parseProcNetTcp(read(f) ?? '', os.endianness() === 'LE')),
    socketOwner: (inode) => (owners ??= socketOwners()).get(inode) ?? null,
  };
}

function readHead(file: string, bytes: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    return buf.subarray(0, fs.readSync(fd, buf, 0, bytes, 0));
  } finally {
    fs.closeSync(fd);
  }
}
