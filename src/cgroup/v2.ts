// The cgroup v2 driver: one unified tree, limits through memory.max/cpu.max/pids.max, kill through cgroup.kill.
import * as path from 'path';

import { Layout, selfDir } from './detect';
import { CgroupDriver, CgroupHandle, checkName, destroyAll, leftover, Placement, StatsTarget } from './driver';
import { cgroupGone, children, CgroupError, exists, killPid, mkdir, pidsIn, readIfExists, removeEmpty, removeIfIdle, removeTree, until, writeFile, writeLimit } from './files';
import { addon } from '../native';
import { deviceProgram } from '../security/device-program';
import type { DeviceRule } from '../security/device-rules';
import { controllersFor, Limits, v2Updates, v2Writes } from './limits';
import { parseFlatKeyed } from './stats';

/** The leaf a "self" supervisor moves itself into: v2 allows no processes in a cgroup with children. */
export const SUPERVISOR_LEAF = 'supervisor';

const WANTED = ['cpu', 'memory', 'pids'];

function words(text: string | null): string[] {
  return (text ?? '').split(/\s+/).filter(Boolean);
}

/** One service cgroup in a v2 tree. */
export class V2Cgroup implements CgroupHandle {
  readonly placement: Placement;
  readonly statsTarget: StatsTarget;
  readonly dirs: string[];

  constructor(readonly name: string, readonly path: string, readonly dir: string) {
    this.placement = { cloneInto: dir, procsFiles: [] };
    this.statsTarget = { kind: 'v2', dirs: { v2: dir } };
    this.dirs = [dir];
  }

  /** Controllers the parent hands down to this cgroup. */
  controllers(): string[] {
    return words(readIfExists(`${this.dir}/cgroup.controllers`));
  }

  private checkControllers(limits: Limits): void {
    const have = this.controllers();
    for (const c of controllersFor(limits)) {
      if (!have.includes(c)) {
        throw new CgroupError(`${path.dirname(this.dir)}/cgroup.subtree_control: the ${c} controller is not enabled for ${this.dir}`);
      }
    }
  }

  setLimits(limits: Limits): void {
    this.checkControllers(limits);
    for (const w of v2Writes(limits, exists(`${this.dir}/memory.swap.max`))) writeLimit(`${this.dir}/${w.file}`, w.value);
  }

  updateLimits(prev: Limits, next: Limits): void {
    this.checkControllers(next);
    for (const w of v2Updates(prev, next, exists(`${this.dir}/memory.swap.max`))) writeLimit(`${this.dir}/${w.file}`, w.value);
  }

  /** v2 has no devices files: a BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup holds the rules. */
  restrictDevices(rules: readonly DeviceRule[]): void {
    addon.attachDeviceProgram(this.dir, deviceProgram(rules));
  }

  oomKills(): number {
    return parseFlatKeyed(readIfExists(`${this.dir}/memory.events`)).get('oom_kill') ?? 0;
  }

  pids(): number[] {
    return pidsIn(`${this.dir}/cgroup.procs`);
  }

  private populated(): boolean {
    const events = readIfExists(`${this.dir}/cgroup.events`);
    if (events === null) return false;
    return parseFlatKeyed(events).get('populated') === 1;
  }

  async freeze(): Promise<void> {
    writeFile(`${this.dir}/cgroup.freeze`, '1');
    const ok = await until(() => parseFlatKeyed(readIfExists(`${this.dir}/cgroup.events`)).get('frozen') === 1, 5000);
    if (!ok) throw new CgroupError(`${this.dir}/cgroup.events: still not frozen after 5 s`);
  }

  thaw(): void {
    writeFile(`${this.dir}/cgroup.freeze`, '0');
  }

  async kill(): Promise<void> {
    if (!exists(this.dir)) return;
    try {
      if (exists(`${this.dir}/cgroup.kill`)) {
        writeFile(`${this.dir}/cgroup.kill`, '1');
      } else {
        // Before 5.14: freeze so nothing forks away, kill what is listed, thaw so the signals are delivered.
        await this.freeze();
        for (const pid of this.pids()) killPid(pid);
        this.thaw();
      }
    } catch (e) {
      if (cgroupGone(e)) return; // removed meanwhile (the instance's end destroys it): nothing is left in it
      throw e;
    }
    if (!(await until(() => !this.populated(), 10_000))) throw new CgroupError(`${this.dir}: processes left after SIGKILL: ${this.pids().join(' ')}`);
  }

  /** Without a kill when nothing is in it (the kernel refuses the rmdir of a cgroup a task is in). */
  async destroy(): Promise<void> {
    if (await removeIfIdle(this.dir)) return;
    await this.kill();
    await removeTree(this.dir);
  }
}

/** Rounds of moving processes out of a "self" root before its EBUSY is final (each round moves what arrived). */
const MOVE_ATTEMPTS = 50;

/** What vacateAndEnable() does to a "self" root: list its processes, move one to the leaf, hand the controllers down. */
export interface VacateOps {
  pids(): number[];
  move(pid: number): void;
  enable(): void;
}

/**
 * No internal processes: our own cgroup hands controllers down only once nothing is left in it. Every process of
 * it (ours, and those a runtime put there: `podman exec`) moves into the leaf; one that arrives meanwhile makes
 * the kernel refuse the controllers (EBUSY): it is moved too, and the write tried again.
 */
export function vacateAndEnable(ops: VacateOps, attempts = MOVE_ATTEMPTS): void {
  for (let attempt = 1; ; attempt++) {
    for (const pid of ops.pids()) ops.move(pid);
    try {
      ops.enable();
      return;
    } catch (e) {
      if (!(e instanceof CgroupError && e.code === 'EBUSY') || attempt >= attempts) throw e;
    }
  }
}

/** Moves pid into the cgroup dir; a process that has exited meanwhile is fine. */
function moveInto(dir: string, pid: number): void {
  try {
    writeFile(`${dir}/cgroup.procs`, String(pid));
  } catch (e) {
    if (!(e instanceof CgroupError && e.code === 'ESRCH')) throw e;
  }
}

/** Enables the controllers nsvisor limits (those the parent offers) for the children of dir. */
export function enableControllers(dir: string): void {
  const offered = words(readIfExists(`${dir}/cgroup.controllers`));
  const enabled = words(readIfExists(`${dir}/cgroup.subtree_control`));
  const missing = WANTED.filter((c) => offered.includes(c) && !enabled.includes(c));
  if (missing.length) writeFile(`${dir}/cgroup.subtree_control`, missing.map((c) => `+${c}`).join(' '));
}

export interface V2Options {
  /** Mount point of the v2 tree (the layout's, or a fixture directory). */
  mount: string;
  /** "/nsvisor", "self", or any absolute path inside the tree. */
  root: string;
  /** Whether to set the root up (mkdir, controllers); false only opens it. */
  prepare?: boolean;
}

export class V2Driver implements CgroupDriver {
  readonly rootPath: string;
  readonly rootDir: string;

  constructor(readonly layout: Layout, private readonly opts: V2Options) {
    this.rootPath = opts.root === 'self' ? layout.self[''] ?? '/' : opts.root;
    this.rootDir = opts.root === 'self' ? selfDir(layout, '', opts.mount) : path.join(opts.mount, opts.root);
    if (opts.prepare !== false) this.prepare();
  }

  get root(): string {
    return this.opts.root;
  }

  private prepare(): void {
    if (this.opts.root === 'self') this.prepareSelf();
    else {
      mkdir(this.rootDir);
      enableControllers(this.rootDir);
    }
  }

  /** See vacateAndEnable(); the tree's real root has no internal-process rule (and holds the whole machine): there only we move. */
  private prepareSelf(): void {
    const leaf = `${this.rootDir}/${SUPERVISOR_LEAF}`;
    mkdir(leaf);
    const realRoot = !exists(`${this.rootDir}/cgroup.events`);
    vacateAndEnable({
      pids: () => pidsIn(`${this.rootDir}/cgroup.procs`).filter((p) => !realRoot || p === process.pid),
      move: (pid) => moveInto(leaf, pid),
      enable: () => enableControllers(this.rootDir),
    });
  }

  private handle(name: string): V2Cgroup {
    checkName(name);
    if (this.opts.root === 'self' && name === SUPERVISOR_LEAF) throw new Error(`cgroup name "${name}": reserved for the supervisor itself`);
    return new V2Cgroup(name, path.posix.join(this.rootPath, name), `${this.rootDir}/${name}`);
  }

  create(name: string, limits: Limits): V2Cgroup {
    const h = this.handle(name);
    mkdir(h.dir);
    try {
      h.setLimits(limits);
    } catch (e) {
      removeEmpty(h.dir);
      throw e;
    }
    return h;
  }

  open(name: string): V2Cgroup {
    return this.handle(name);
  }

  list(): string[] {
    return children(this.rootDir).filter((n) => !(this.opts.root === 'self' && n === SUPERVISOR_LEAF));
  }

  cleanupStale(keep?: ReadonlySet<string>): Promise<string[]> {
    return destroyAll(this, leftover(keep));
  }

  async removeRoot(): Promise<void> {
    await this.cleanupStale();
    if (this.opts.root !== 'self') await removeTree(this.rootDir);
  }
}
