// Entry point of the cgroup layer: pick the driver for this host's layout and root.
import { detectLayout, Layout } from './detect';
import type { CgroupDriver } from './driver';
import { HybridDriver } from './hybrid';
import { V1Driver } from './v1';
import { V2Driver } from './v2';

export type { CgroupDriver, CgroupHandle, Placement, StatsTarget } from './driver';
export type { Limits } from './limits';
export type { CgroupStats } from './stats';
export { CgroupError } from './files';
export { CounterCarry } from './counter-carry';
export { CgroupPool, cgroupPool, closeCgroupPool } from './cgroup-pool';

export const DEFAULT_ROOT = '/nsvisor';

/** The root to use: the option, else $NSVISOR_CGROUP_ROOT, else /nsvisor. */
export function resolveRoot(root?: string): string {
  const r = root ?? process.env.NSVISOR_CGROUP_ROOT ?? DEFAULT_ROOT;
  if (r !== 'self' && !/^\/[A-Za-z0-9_.\-/]*$/.test(r)) throw new Error(`cgroupRoot: expected an absolute path or "self", got "${r}"`);
  return r;
}

/** The driver for this host (or the given layout), with the root made ready. */
export function openCgroups(opts: { root?: string; layout?: Layout; prepare?: boolean } = {}): CgroupDriver {
  const layout = opts.layout ?? detectLayout();
  const root = resolveRoot(opts.root);
  if (layout.kind === 'v2') return new V2Driver(layout, { mount: layout.unified!, root, prepare: opts.prepare });
  if (layout.kind === 'hybrid') return new HybridDriver(layout, { root, prepare: opts.prepare });
  return new V1Driver(layout, { root, prepare: opts.prepare });
}
