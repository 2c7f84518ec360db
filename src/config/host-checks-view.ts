// The file system a service will see, read from the host: its root (rootfs or /) with its mounts on top, symlinks resolved inside it.
import * as path from 'path';

import type { FileFacts, HostFacts } from './host-checks-facts';
import type { KeptMount } from './host-checks-plan';

/** One mount of the service: a host directory or file (bind), a fresh tmpfs, or a kernel file system nothing here can read. */
export type Layer =
  | { target: string; type: 'bind'; source: string; index: number }
  | { target: string; type: 'tmpfs'; index: number }
  | { target: string; type: 'virtual'; index: number | null };

export interface InsideView {
  /** The rootfs, or null for the host's own root. */
  rootfs: string | null;
  /** In the order they are mounted: a later one covers an earlier one. */
  layers: Layer[];
}

/** Where an inside path lives: a host path (`top`: it is a bind's own source), a tmpfs directory, nothing (in a fresh tmpfs), or beyond knowing. */
export type Location = { host: string; top: boolean; layer: Layer | null } | { tmpfsRoot: true } | { emptyTmpfs: Layer } | 'virtual';

/** What resolving an inside path found. */
export type Resolved =
  | { found: true; host: string | null; facts: FileFacts }
  | { found: false; missing: string; why: 'missing' | 'notdir' | 'loop'; tmpfs?: Layer }
  | { found: false; why: 'virtual' };

const MAX_LINKS = 40;
const TMPFS_DIR: FileFacts = { kind: 'dir', mode: 0o1777 };

/**
 * The declared mounts the planner kept, after those it adds itself (proc, sysfs, /dev of a rootfs...): their
 * content is made by the kernel, so the checks do not judge paths inside them.
 */
export function viewOf(rootfs: string | undefined, kept: KeptMount[], plannedTargets: string[]): InsideView {
  const declared = new Set(kept.map((k) => k.mount.target));
  const auto: Layer[] = plannedTargets.filter((t) => !declared.has(t)).map((target) => ({ target, type: 'virtual', index: null }));
  const own = kept.map(({ mount, index }): Layer => {
    if (mount.type === 'bind') return { target: mount.target, type: 'bind', source: mount.source, index };
    return { target: mount.target, type: mount.type === 'tmpfs' ? 'tmpfs' : 'virtual', index };
  });
  return { rootfs: rootfs ?? null, layers: [...auto, ...own] };
}

const under = (p: string, dir: string) => dir === '/' || p === dir || p.startsWith(`${dir}/`);

/** The topmost mount of the view at or above inside path `p`, or null when `p` is on the root itself. */
export function coveringLayer(view: InsideView, p: string): Layer | null {
  for (let i = view.layers.length - 1; i >= 0; i--) if (under(p, view.layers[i].target)) return view.layers[i];
  return null;
}

/** Where inside path `p` (absolute, without symlinks above it) is on the host. */
export function locate(view: InsideView, p: string): Location {
  const layer = coveringLayer(view, p);
  if (layer === null) return { host: view.rootfs === null ? p : `${view.rootfs}${p === '/' ? '' : p}`, top: false, layer };
  const rest = layer.target === '/' ? p : p.slice(layer.target.length);
  if (layer.type === 'virtual') return 'virtual';
  if (layer.type === 'tmpfs') return rest === '' || rest === '/' ? { tmpfsRoot: true } : { emptyTmpfs: layer };
  return { host: `${layer.source}${rest}`, top: rest === '' || rest === '/', layer };
}

/**
 * Resolves `p` as the kernel will inside the service: relative to `cwd`, symlinks followed within the view ("/"
 * and ".." never lead out of a rootfs), at most 40 of them.
 */
export function resolveInside(view: InsideView, host: HostFacts, p: string, cwd: string): Resolved {
  const queue = path.posix.resolve(cwd, p).split('/');
  let current = '/';
  let facts: FileFacts = { kind: 'dir', mode: 0o755 };
  let hostPath: string | null = view.rootfs ?? '/';
  let links = 0;
  while (queue.length) {
    const part = queue.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      current = path.posix.dirname(current);
      continue;
    }
    const next = path.posix.join(current, part);
    const where = locate(view, next);
    if (where === 'virtual') return { found: false, why: 'virtual' };
    if ('emptyTmpfs' in where) return { found: false, missing: next, why: 'missing', tmpfs: where.emptyTmpfs };
    const seen = 'tmpfsRoot' in where ? TMPFS_DIR : where.top ? host.stat(where.host) : host.lstat(where.host);
    if (seen === null) return { found: false, missing: next, why: 'missing' };
    if (seen.kind === 'symlink') {
      if (++links > MAX_LINKS) return { found: false, missing: next, why: 'loop' };
      const target = host.readlink((where as { host: string }).host) ?? '';
      queue.unshift(...target.split('/'));
      if (target.startsWith('/')) current = '/';
      continue;
    }
    if (queue.some((q) => q !== '') && seen.kind !== 'dir') return { found: false, missing: next, why: 'notdir' };
    current = next;
    facts = seen;
    hostPath = 'tmpfsRoot' in where ? null : where.host;
  }
  return { found: true, host: hostPath, facts };
}

/** "on this host" or "in the rootfs /srv/web": where a path of the service is looked for, for messages. */
export function whereOf(view: InsideView): string {
  return view.rootfs === null ? 'on this host' : `in the rootfs ${view.rootfs}`;
}
