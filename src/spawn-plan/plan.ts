// Isolation settings -> the native SpawnRequest: the only place that knows clone flags, mount order and id maps. Pure.
import * as os from 'os';

import { capabilityMask } from '../config/capabilities';
import type { Isolation, Namespace } from '../config/isolation';
import { DEFAULT_ISOLATE } from '../config/isolation';
import { toSecNsec } from '../config/units';
import { CLONE, createKinds, MountKind, mountKinds, MountRequest, MS, SpawnRequest, TimeOffsetRequest, timeModes } from '../native';
import { Protections, protectionsOf } from '../security/protections';
import { AddMount, cgroupView, CgroupMount, ownDev, procMasks } from './hardening';

/** What a path is, as far as the spec builder needs to know. */
export type PathKind = 'dir' | 'file' | 'other' | null;

export interface SpecContext {
  /** Used for the default hostname. */
  name: string;
  /** Environment the configured env is laid over. */
  baseEnv: Record<string, string | undefined>;
  /** Working directory when none is configured and the host root is kept. */
  defaultCwd: string;
  /** The caller's effective ids, for id maps. */
  uid: number;
  gid: number;
  /** The first subordinate uid/gid of the caller (/etc/subuid), for userns "auto" as root; asked only then. */
  subordinateBase(): number;
  /** Map the caller to root in a new user namespace (sandbox --map-root). */
  mapRoot: boolean;
  initPath: string;
  stdio: [number, number, number];
  passFds: number[];
  newSession: boolean;
  probe(path: string): PathKind;
  /** NOTIFY_SOCKET of a supervised service: carried into its mount namespace wherever a mount or the rootfs hides it. */
  notifySocket?: string;
  /** An fd holding the seccomp program nsvisor-init installs for the command (passed on after the listen fds). */
  seccompFd?: number;
  /** The host's cgroup hierarchies, for the service's own view of /sys/fs/cgroup. */
  cgroupMounts: CgroupMount[];
  /**
   * A supervised service that outlives its supervisor for `adoptMs` (supervisor.adoptTimeout > 0): nsvisor-init
   * keeps `outputFds` (the read ends of its output pipes, passed on after the seccomp program) and reads them once
   * the supervisor is gone.
   */
  keeper?: { adoptMs: number; outputFds: number[]; adoptFd?: number };
}

export interface IdMaps {
  uidMap: string;
  gidMap: string;
  /** "deny" must be written before gid_map when an unprivileged caller maps itself. */
  setgroups: 'deny' | null;
}

export interface SpawnPlan {
  request: SpawnRequest;
  namespaces: Namespace[];
  idMaps: IdMaps | null;
  /** Mount i of the request as the user wrote it (target inside), for error messages. */
  mountTargets: string[];
}

/** A setting that cannot work, with the key it came from. */
export class SpecError extends Error {
  constructor(readonly key: string, message: string) {
    super(`${key}: ${message}`);
  }
}

const NONE: TimeOffsetRequest = { mode: timeModes.none, sec: 0, nsec: 0 };

export function namespacesOf(iso: Isolation, mapRoot: boolean): Namespace[] {
  const set = new Set<Namespace>(iso.isolate ?? DEFAULT_ISOLATE);
  if (iso.userns || mapRoot) set.add('user');
  if (iso.time && (iso.time.boottime !== undefined || iso.time.monotonic !== undefined)) set.add('time');
  return [...set].sort();
}

function timeOffset(value: number | 'fromZero' | undefined): TimeOffsetRequest {
  if (value === undefined) return NONE;
  if (value === 'fromZero') return { mode: timeModes.fromZero, sec: 0, nsec: 0 };
  return { mode: timeModes.offset, ...toSecNsec(value) };
}

/** "0:100000:65536,..." -> the kernel's "0 100000 65536\n..." */
export function kernelIdMap(text: string): string {
  return text
    .split(',')
    .map((range) => range.split(':').join(' '))
    .join('\n') + '\n';
}

/** Whether a kernel-format map gives inside id 0 an outside id. */
export function mapsRoot(kernelMap: string): boolean {
  return kernelMap
    .trim()
    .split('\n')
    .some((line) => {
      const [inside, , count] = line.split(' ').map(Number);
      return inside <= 0 && 0 < inside + count;
    });
}

export function idMapsFor(iso: Isolation, ctx: SpecContext): IdMaps {
  const unprivileged = ctx.uid !== 0;
  if (iso.userns && iso.userns !== 'auto') {
    return { uidMap: kernelIdMap(iso.userns.uidMap), gidMap: kernelIdMap(iso.userns.gidMap), setgroups: null };
  }
  if (iso.userns === 'auto' && !unprivileged && !ctx.mapRoot) {
    const range = `0:${ctx.subordinateBase()}:65536`;
    return { uidMap: kernelIdMap(range), gidMap: kernelIdMap(range), setgroups: null };
  }
  // Like `unshare -r`: the caller is root inside, and only the caller is mapped.
  return {
    uidMap: `0 ${ctx.uid} 1\n`,
    gidMap: `0 ${ctx.gid} 1\n`,
    setgroups: unprivileged ? 'deny' : null,
  };
}

function requireNs(namespaces: Namespace[], ns: Namespace, key: string): void {
  if (!namespaces.includes(ns)) throw new SpecError(key, `requires "${ns}" in isolate`);
}

/** A mount of the plan, with the path it has inside and the index of the declared mount it comes from (or null). */
interface PlannedMount {
  request: MountRequest;
  inside: string;
  declared: number | null;
}

/**
 * The mounts of the plan, in order: /proc (and its masks), /sys (read-only, its own cgroup), /dev, the declared
 * mounts, NOTIFY_SOCKET. Hardened (every service unless privileged): masks, read-only /sys, its own cgroup and /dev.
 */
function buildMounts(iso: Isolation, ns: Namespace[], ctx: SpecContext, guard: Protections): { mounts: MountRequest[]; targets: string[] } {
  const prefix = iso.rootfs ?? '';
  const planned: PlannedMount[] = [];
  const creatable = iso.rootfs !== undefined;
  const dir = creatable ? createKinds.directory : createKinds.never;
  const add = (request: MountRequest, inside: string, declared: number | null = null) => planned.push({ request, inside, declared });
  const addMount: AddMount = (request, inside) => add(request, inside);
  const declares = (target: string) => iso.mounts.some((m) => m.target === target);
  const has = (inside: string) => !creatable || ctx.probe(`${prefix}${inside}`) === 'dir';
  const newProc = ns.includes('pid') && !declares('/proc');
  if (newProc) {
    add({ kind: mountKinds.proc, source: null, target: `${prefix}/proc`, data: null, readonly: false, create: dir, keepWritable: true }, '/proc');
  }
  if (guard.hardened && !declares('/proc') && (newProc || has('/proc/self'))) procMasks(prefix, ctx.probe, addMount);
  // In a network namespace of its own, /sys/class/net lists its own devices only: a fresh sysfs. Hardened in a cgroup
  // namespace of its own, its /sys/fs/cgroup shows the service's own cgroup; otherwise the host's cgroup mounts are
  // carried over (read-only when hardened: fresh ones would show the host's whole tree, and a user namespace
  // may not mount v1 hierarchies outside a cgroup namespace of its own).
  const sys = !declares('/sys') && has('/sys');
  const ownCgroups = guard.hardened && ns.includes('cgroup');
  if (ns.includes('net') && sys) {
    const cgroups = ownCgroups ? '' : '/sys/fs/cgroup';
    add({ kind: mountKinds.sysfs, source: cgroups, target: `${prefix}/sys`, data: `${prefix}/sys/fs/cgroup`, readonly: guard.hardened, create: createKinds.never }, '/sys');
  } else if (guard.hardened && sys && !creatable) {
    add({ kind: mountKinds.bind, source: '/sys', target: '/sys', data: null, readonly: true, create: createKinds.never }, '/sys');
  }
  if (guard.hardened && sys && (ns.includes('net') || !creatable)) {
    if (ctx.probe('/sys/firmware') === 'dir') {
      add({ kind: mountKinds.tmpfs, source: null, target: `${prefix}/sys/firmware`, data: 'mode=0555,size=0', readonly: true, create: createKinds.never }, '/sys/firmware');
    }
    if (ownCgroups) cgroupView(prefix, ctx.cgroupMounts, addMount);
  }
  // A /dev of its own for every hardened service (and for a rootfs always), with its devices bound in.
  const hasOwnDev = (guard.hardened || creatable) && !declares('/dev');
  if (hasOwnDev) ownDev(prefix, guard.devices, ctx.probe, addMount);
  if (ns.includes('ipc') && (hasOwnDev || ctx.probe(`${prefix}/dev/mqueue`) === 'dir')) {
    const create = hasOwnDev ? createKinds.directory : createKinds.never;
    add({ kind: mountKinds.mqueue, source: null, target: `${prefix}/dev/mqueue`, data: null, readonly: false, create, keepWritable: true }, '/dev/mqueue');
  }
  iso.mounts.forEach((m, i) => {
    const key = `mounts[${i}]`;
    const target = `${prefix}${m.target}`;
    let create = dir;
    if (m.type === 'bind') {
      const kind = ctx.probe(m.source);
      if (kind === null) throw new SpecError(`${key}.source`, `${m.source} does not exist`);
      if (kind === 'file' && creatable) create = createKinds.file;
    }
    if (!creatable && ctx.probe(target) === null) {
      throw new SpecError(`${key}.target`, `${m.target} does not exist (without rootfs nsvisor creates nothing on the host)`);
    }
    const readonly = m.type !== 'proc' && m.readonly;
    const base = { target, readonly, create, keepWritable: !readonly };
    if (m.type === 'bind') add({ kind: mountKinds.bind, source: m.source, data: null, ...base }, m.target, i);
    else if (m.type === 'tmpfs') add({ kind: mountKinds.tmpfs, source: null, data: m.size ? `mode=1777,size=${m.size}` : 'mode=1777', ...base }, m.target, i);
    else add({ kind: mountKinds.proc, source: null, data: null, ...base }, m.target, i);
  });
  if (ctx.notifySocket !== undefined) {
    const carried = notifySocketMount(ctx.notifySocket, creatable, planned);
    if (carried) add(carried, ctx.notifySocket);
  }
  return { mounts: planned.map((p) => p.request), targets: planned.map((p) => p.inside) };
}

const kindName = (kind: MountKind) => Object.entries(mountKinds).find(([, v]) => v === kind)?.[0] ?? `kind ${kind}`;

/** Whether a mount at `target` hides `path` (both as seen inside). */
const hides = (target: string, path: string) => target === '/' || path === target || path.startsWith(`${target}/`);

/**
 * NOTIFY_SOCKET whatever the service mounts: where a mount or the rootfs hides the socket's path, the socket's own
 * mount is carried in (kind carry, read-only: sending a datagram needs write permission on the socket, not a
 * writable mount). Its target is created where missing, which may happen only on a tmpfs of the service's own or
 * inside its rootfs; a bind of a host directory, or a file system that cannot hold it, over the path is refused.
 * Null where the service sees the socket anyway.
 */
function notifySocketMount(socket: string, rootfs: boolean, planned: PlannedMount[]): MountRequest | null {
  const cover = planned.filter((p) => hides(p.inside, socket)).pop();
  if (!cover && !rootfs) return null;
  if (cover && (cover.request.kind !== mountKinds.tmpfs || cover.request.readonly)) {
    const key = cover.declared === null ? 'ready.notify' : `mounts[${cover.declared}]`;
    const on = cover.inside;
    const elsewhere = `put supervisor.control outside ${on}`;
    const hidden = `hides NOTIFY_SOCKET ${socket}`;
    if (cover.request.kind === mountKinds.bind) {
      throw new SpecError(key, `the bind of ${cover.request.source} on ${on} ${hidden}, and nsvisor creates nothing in a host directory; mount a tmpfs on ${on} instead, or ${elsewhere}`);
    }
    if (cover.request.kind === mountKinds.tmpfs) {
      throw new SpecError(key, `the read-only tmpfs on ${on} ${hidden}, and nothing can be created on it; make it writable, or ${elsewhere}`);
    }
    const name = kindName(cover.request.kind);
    throw new SpecError(key, `the ${name} mount on ${on} ${hidden}, and nothing can be created in ${name}; ${elsewhere}`);
  }
  return { kind: mountKinds.carry, source: socket, target: socket, data: null, readonly: true, create: createKinds.file };
}

function envList(iso: Isolation, ctx: SpecContext): string[] {
  const env: Record<string, string | undefined> = { ...ctx.baseEnv, ...iso.env };
  if (!env.PATH) env.PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  return Object.entries(env)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${v}`);
}

/** Whom the command runs as and what it may do: its ids and its protections (the capabilities it keeps, no_new_privs). */
export interface Identity {
  user?: string | null;
  capabilities: readonly string[] | null;
  ambient: boolean;
  noNewPrivileges: boolean;
}

/**
 * nsvisor-init's options for whom the command runs as: ids, the capabilities it keeps (as ambient too when asked),
 * no_new_privs. `nsvisor exec` and the exec probes run with the same ones.
 */
export function identityArgs(id: Identity): string[] {
  const argv: string[] = [];
  if (id.user) {
    const [uid, gid] = id.user.split(':');
    argv.push('--uid', uid, '--gid', gid ?? uid);
  }
  if (id.capabilities) argv.push('--caps', capabilityMask(id.capabilities));
  if (id.capabilities && id.ambient) argv.push('--ambient');
  if (id.noNewPrivileges) argv.push('--no-new-privs');
  return argv;
}

/** A service's identity from its keys. */
export function identityOf(iso: Pick<Isolation, 'user' | 'capabilities' | 'noNewPrivileges' | 'seccomp' | 'privileged' | 'devices'>): Identity & Protections {
  return { user: iso.user, ...protectionsOf(iso) };
}

function initArgv(iso: Isolation, ctx: SpecContext, guard: Protections): string[] {
  const passFds = passedFds(ctx);
  const listenFds = ctx.passFds.length;
  const argv = ['nsvisor-init', '--supervised', '--status-fd', String(3 + passFds.length)];
  if (listenFds) argv.push('--listen-fds', String(listenFds));
  if (ctx.seccompFd !== undefined && guard.seccomp) argv.push('--seccomp-fd', String(3 + listenFds));
  argv.push('--stop-signal', String(os.constants.signals[iso.stop.signal as NodeJS.Signals]));
  argv.push('--drain', String(Math.round(iso.stop.drain)));
  if (ctx.keeper) {
    const first = 3 + listenFds + (ctx.seccompFd === undefined ? 0 : 1);
    argv.push('--adopt-timeout', String(Math.round(ctx.keeper.adoptMs)), '--stop-timeout', String(Math.round(iso.stop.timeout)));
    ctx.keeper.outputFds.forEach((_, i) => argv.push('--output-fd', String(first + i)));
    if (ctx.keeper.adoptFd !== undefined) argv.push('--adopt-socket', String(first + ctx.keeper.outputFds.length));
  }
  return [...argv, ...identityArgs({ user: iso.user, ...guard }), '--', ...iso.command];
}

/** The fds the child gets as 3, 4, ...: the listen sockets, the seccomp program, the output pipes init keeps, its adoption socket. */
function passedFds(ctx: SpecContext): number[] {
  const k = ctx.keeper;
  return [...ctx.passFds, ...(ctx.seccompFd === undefined ? [] : [ctx.seccompFd]), ...(k?.outputFds ?? []), ...(k?.adoptFd === undefined ? [] : [k.adoptFd])];
}

export function buildSpawnPlan(iso: Isolation, ctx: SpecContext): SpawnPlan {
  const ns = namespacesOf(iso, ctx.mapRoot);
  if (iso.hostname !== undefined) requireNs(ns, 'uts', 'hostname');
  if (iso.domainname !== undefined) requireNs(ns, 'uts', 'domainname');
  if (iso.rootfs !== undefined) requireNs(ns, 'mount', 'rootfs');
  if (iso.readonlyRoot) requireNs(ns, 'mount', 'readonlyRoot');
  if (iso.mounts.length) requireNs(ns, 'mount', 'mounts');
  if (iso.rootfs !== undefined && ctx.probe(iso.rootfs) !== 'dir') {
    throw new SpecError('rootfs', `${iso.rootfs} is not a directory`);
  }
  const flagOf: Partial<Record<Namespace, number>> = {
    user: CLONE.NEWUSER, pid: CLONE.NEWPID, mount: CLONE.NEWNS, uts: CLONE.NEWUTS, ipc: CLONE.NEWIPC, net: CLONE.NEWNET,
  };
  const cloneFlags = ns.reduce((flags, n) => flags | (flagOf[n] ?? 0), 0);
  const mount = ns.includes('mount');
  const guard = protectionsOf(iso);
  const { mounts, targets } = mount ? buildMounts(iso, ns, ctx, guard) : { mounts: [], targets: [] };
  const propagation = { private: MS.PRIVATE, slave: MS.SLAVE, shared: MS.SHARED }[iso.propagation];
  const uts = ns.includes('uts');
  const request: SpawnRequest = {
    cloneFlags,
    unshareTime: ns.includes('time'),
    monotonic: timeOffset(iso.time?.monotonic),
    boottime: timeOffset(iso.time?.boottime),
    unshareCgroup: ns.includes('cgroup'),
    becomeRoot: false,
    clearGroups: false,
    stdio: ctx.stdio,
    passFds: passedFds(ctx),
    newSession: ctx.newSession,
    propagation: mount ? propagation : 0,
    rootfs: iso.rootfs ?? null,
    readonlyRoot: iso.readonlyRoot,
    mounts,
    hostname: uts ? iso.hostname ?? ctx.name : null,
    domainname: uts ? iso.domainname ?? null : null,
    loopbackUp: ns.includes('net'),
    cwd: iso.cwd ?? (iso.rootfs ? '/' : ctx.defaultCwd),
    initPath: ctx.initPath,
    argv: initArgv(iso, ctx, guard),
    envp: envList(iso, ctx),
  };
  const idMaps = ns.includes('user') ? idMapsFor(iso, ctx) : null;
  request.becomeRoot = idMaps !== null && mapsRoot(idMaps.uidMap) && mapsRoot(idMaps.gidMap);
  request.clearGroups = idMaps !== null && idMaps.setgroups === null;
  return { request, namespaces: ns, idMaps, mountTargets: targets };
}
