// The cgroup v1 driver: one directory per controller, limits through *_in_bytes/cfs/shares, kill through the freezer.
import * as path from 'path';

import { Layout, selfDir, V1Controller } from './detect';
import { CgroupDriver, CgroupHandle, checkName, destroyAll, leftover, Placement, StatsTarget } from './driver';
import { cgroupGone, children, CgroupError, exists, killPid, mkdir, pidsIn, readIfExists, removeEmpty, removeIdle, removeTree, until, writeFile, writeLimit } from './files';
import { DeviceRule, v1Line } from '../security/device-rules';
import { controllersFor, Limits, v1Updates, v1Writes } from './limits';
import { parseFlatKeyed } from './stats';

/** One service cgroup: its directory in each v1 hierarchy (cpu and cpuacct may be one). */
export class V1Cgroup implements CgroupHandle {
  readonly placement: Placement;
  readonly statsTarget: StatsTarget;
  readonly dirs: string[];

  constructor(readonly name: string, readonly path: string, readonly byController: Partial<Record<V1Controller, string>>, unifiedDir: string | null = null) {
    this.dirs = [...new Set(Object.values(byController))];
    this.placement = { cloneInto: null, procsFiles: this.dirs.map((d) => `${d}/cgroup.procs`) };
    this.statsTarget = { kind: 'v1', dirs: { ...byController, ...(unifiedDir ? { unified: unifiedDir } : {}) } };
  }

  private dir(c: V1Controller): string | undefined {
    return this.byController[c];
  }

  /** Whether the memory controller has memory+swap accounting, after checking each controller the limits need is there. */
  private prepare(limits: Limits): boolean {
    for (const c of controllersFor(limits)) {
      if (!this.dir(c)) throw new CgroupError(`/proc/self/mountinfo: the ${c} controller (v1) is not mounted: cannot apply resources for ${c}`);
    }
    return this.dir('memory') ? exists(`${this.dir('memory')}/memory.memsw.limit_in_bytes`) : false;
  }

  setLimits(limits: Limits): void {
    const memsw = this.prepare(limits);
    for (const w of v1Writes(limits, memsw)) writeLimit(`${this.dir(w.controller)}/${w.file}`, w.value);
  }

  updateLimits(prev: Limits, next: Limits): void {
    const memsw = this.prepare(next);
    for (const w of v1Updates(prev, next, memsw)) writeLimit(`${this.dir(w.controller)}/${w.file}`, w.value);
  }

  /** Everything denied, then each rule allowed: the kernel keeps a child's list within its parent's. */
  restrictDevices(rules: readonly DeviceRule[]): void {
    const dir = this.dir('devices');
    if (!dir) throw new CgroupError("/proc/self/mountinfo: the devices controller (v1) is not mounted: cannot keep the service from the host's devices");
    writeFile(`${dir}/devices.deny`, 'a');
    for (const r of rules) writeFile(`${dir}/devices.allow`, v1Line(r));
  }

  oomKills(): number {
    const dir = this.dir('memory');
    return dir ? parseFlatKeyed(readIfExists(`${dir}/memory.oom_control`)).get('oom_kill') ?? 0 : 0;
  }

  pids(): number[] {
    const all = new Set<number>();
    for (const d of this.dirs) for (const pid of pidsIn(`${d}/cgroup.procs`)) all.add(pid);
    return [...all];
  }

  /** Pids in this cgroup and its sub-cgroups (a service may have made some) in every hierarchy. */
  private allPids(): number[] {
    const all = new Set<number>();
    const walk = (dir: string) => {
      for (const pid of pidsIn(`${dir}/cgroup.procs`)) all.add(pid);
      for (const c of children(dir)) walk(`${dir}/${c}`);
    };
    for (const d of this.dirs) if (exists(d)) walk(d);
    return [...all];
  }

  async freeze(): Promise<void> {
    const dir = this.dir('freezer');
    if (!dir) throw new CgroupError('/proc/self/mountinfo: the freezer controller (v1) is not mounted');
    writeFile(`${dir}/freezer.state`, 'FROZEN');
    const ok = await until(() => (readIfExists(`${dir}/freezer.state`) ?? '').trim() === 'FROZEN', 5000);
    if (!ok) throw new CgroupError(`${dir}/freezer.state: still not FROZEN after 5 s`);
  }

  thaw(): void {
    const dir = this.dir('freezer');
    if (dir) writeFile(`${dir}/freezer.state`, 'THAWED');
  }

  async kill(): Promise<void> {
    // Frozen, nothing can fork away between reading the list and the signals; without a freezer, repeat until empty.
    if (this.allPids().length === 0) return; // an empty cgroup stays empty: nothing to freeze
    const frozen = this.dir('freezer') !== undefined && exists(this.dir('freezer')!);
    for (let round = 0; round < 100; round++) {
      try {
        if (frozen) await this.freeze();
        const pids = this.allPids();
        for (const pid of pids) killPid(pid);
        if (frozen) this.thaw();
      } catch (e) {
        if (cgroupGone(e)) return; // removed meanwhile (the instance's end destroys it): nothing is left in it
        throw e;
      }
      if (await until(() => this.allPids().length === 0, round < 99 ? 200 : 10_000)) return;
    }
    throw new CgroupError(`${this.dirs[0]}: processes left after SIGKILL: ${this.allPids().join(' ')}`);
  }

  /**
   * Each directory that nothing is in goes at once (the kernel refuses the rmdir of a busy one); only when one is
   * left is the cgroup killed (what a process moved in one hierarchy still holds in another is found) and removed.
   */
  async destroy(): Promise<void> {
    const busy = await removeIdle(this.dirs);
    if (!busy.length) return;
    await this.kill();
    for (const d of busy) await removeTree(d);
  }
}

export interface V1Options {
  root: string;
  prepare?: boolean;
}

export class V1Driver implements CgroupDriver {
  readonly rootPath: string;

  constructor(readonly layout: Layout, private readonly opts: V1Options) {
    this.rootPath = this.rootPathOf('memory');
    if (opts.prepare !== false) for (const d of this.rootDirs()) mkdir(d);
  }

  get root(): string {
    return this.opts.root;
  }

  /** "self" on v1: our own cgroup in that controller's hierarchy (they differ on some hosts), as /proc shows it. */
  private rootPathOf(c: V1Controller): string {
    return this.opts.root === 'self' ? this.layout.self[c] ?? '/' : this.opts.root;
  }

  /** The root's directory in controller c's hierarchy: "self" is found below what the mount shows. */
  private rootDirOf(c: V1Controller, mount: string): string {
    return this.opts.root === 'self' ? selfDir(this.layout, c, mount) : path.join(mount, this.opts.root);
  }

  private rootDirs(): string[] {
    return [...new Set((Object.entries(this.layout.v1) as [V1Controller, string][]).map(([c, m]) => this.rootDirOf(c, m)))];
  }

  protected dirsOf(name: string): Partial<Record<V1Controller, string>> {
    const out: Partial<Record<V1Controller, string>> = {};
    for (const [c, mount] of Object.entries(this.layout.v1) as [V1Controller, string][]) {
      out[c] = path.join(this.rootDirOf(c, mount), name);
    }
    return out;
  }

  open(name: string, unifiedDir: string | null = null): V1Cgroup {
    checkName(name);
    return new V1Cgroup(name, path.posix.join(this.rootPath, name), this.dirsOf(name), unifiedDir);
  }

  create(name: string, limits: Limits, unifiedDir: string | null = null): V1Cgroup {
    const h = this.open(name, unifiedDir);
    for (const d of h.dirs) mkdir(d);
    try {
      h.setLimits(limits);
    } catch (e) {
      for (const d of h.dirs) removeEmpty(d);
      throw e;
    }
    return h;
  }

  list(): string[] {
    const names = new Set<string>();
    for (const d of this.rootDirs()) for (const n of children(d)) names.add(n);
    return [...names];
  }

  cleanupStale(keep?: ReadonlySet<string>): Promise<string[]> {
    return destroyAll(this, leftover(keep));
  }

  async removeRoot(): Promise<void> {
    await this.cleanupStale();
    if (this.opts.root !== 'self') for (const d of this.rootDirs()) await removeTree(d);
  }
}
