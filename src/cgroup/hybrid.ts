// The hybrid driver: v1 controllers for limits and accounting, the v2 tree for placement, cgroup.kill, freezing and pressure.
import type { Layout } from './detect';
import { CgroupDriver, CgroupHandle, destroyAll, leftover, Placement, StatsTarget } from './driver';
import { exists, removeEmpty, removeIfIdle, removeTree, until } from './files';
import type { DeviceRule } from '../security/device-rules';
import type { Limits } from './limits';
import { V1Cgroup, V1Driver } from './v1';
import { V2Cgroup, V2Driver } from './v2';

export class HybridCgroup implements CgroupHandle {
  readonly placement: Placement;
  readonly statsTarget: StatsTarget;
  readonly dirs: string[];

  constructor(readonly v1: V1Cgroup, readonly v2: V2Cgroup) {
    // The child is cloned into the v2 cgroup and written into the v1 ones before it goes on.
    this.placement = { cloneInto: v2.dir, procsFiles: v1.placement.procsFiles };
    this.statsTarget = v1.statsTarget;
    this.dirs = [...v1.dirs, v2.dir];
  }

  get name(): string {
    return this.v1.name;
  }

  get path(): string {
    return this.v1.path;
  }

  setLimits(limits: Limits): void {
    this.v1.setLimits(limits);
  }

  updateLimits(prev: Limits, next: Limits): void {
    this.v1.updateLimits(prev, next);
  }

  /** The v1 devices controller where the host mounts it (it is the one that applies); else the program on the v2 tree. */
  restrictDevices(rules: readonly DeviceRule[]): void {
    if (this.v1.byController.devices) this.v1.restrictDevices(rules);
    else this.v2.restrictDevices(rules);
  }

  oomKills(): number {
    return this.v1.oomKills();
  }

  pids(): number[] {
    return [...new Set([...this.v2.pids(), ...this.v1.pids()])];
  }

  freeze(): Promise<void> {
    return exists(`${this.v2.dir}/cgroup.freeze`) ? this.v2.freeze() : this.v1.freeze();
  }

  thaw(): void {
    if (exists(`${this.v2.dir}/cgroup.freeze`)) this.v2.thaw();
    else this.v1.thaw();
  }

  async kill(): Promise<void> {
    // Every process of the service is in the v2 cgroup too (CLONE_INTO_CGROUP, inherited by forks): one atomic kill.
    if (exists(`${this.v2.dir}/cgroup.kill`)) {
      await this.v2.kill();
      await until(() => this.v1.pids().length === 0, 5000);
    }
    await this.v1.kill(); // what is left (a process placed only in v1), or the whole kill on kernels before 5.14
  }

  /**
   * The v2 cgroup holds every process of the service: once its rmdir is allowed nothing runs there, and the v1
   * directories go the same way (one still busy, a process moved there alone, is killed first). Else kill, remove.
   */
  async destroy(): Promise<void> {
    if (await removeIfIdle(this.v2.dir)) return this.v1.destroy();
    await this.kill();
    for (const d of this.dirs) await removeTree(d);
  }
}

export class HybridDriver implements CgroupDriver {
  private readonly v1: V1Driver;
  private readonly v2: V2Driver;

  constructor(readonly layout: Layout, opts: { root: string; prepare?: boolean }) {
    this.v1 = new V1Driver(layout, opts);
    this.v2 = new V2Driver(layout, { mount: layout.unified!, ...opts });
  }

  get root(): string {
    return this.v1.root;
  }

  get rootPath(): string {
    return this.v1.rootPath;
  }

  open(name: string): HybridCgroup {
    const v2 = this.v2.open(name);
    return new HybridCgroup(this.v1.open(name, v2.dir), v2);
  }

  create(name: string, limits: Limits): HybridCgroup {
    const v2 = this.v2.create(name, {});
    try {
      return new HybridCgroup(this.v1.create(name, limits, v2.dir), v2);
    } catch (e) {
      removeEmpty(v2.dir);
      throw e;
    }
  }

  list(): string[] {
    return [...new Set([...this.v1.list(), ...this.v2.list()])];
  }

  cleanupStale(keep?: ReadonlySet<string>): Promise<string[]> {
    return destroyAll(this, leftover(keep));
  }

  async removeRoot(): Promise<void> {
    await this.cleanupStale();
    await this.v1.removeRoot();
    await this.v2.removeRoot();
  }
}
