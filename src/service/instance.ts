// One running instance of a service: launched on the shared launch path, with its notify socket, output pipes, readiness and stop sequence.
import * as fs from 'fs';

import type { CgroupDriver, CgroupHandle } from '../cgroup';
import { parseIPv4 } from '../config/addresses';
import type { ServiceConfig } from '../config/schema';
import { LaunchFailure } from '../launch/failure';
import { PipeInput } from '../logs/peek-input';
import { launch, settleEnd } from '../launch/launch';
import { adoptedProcess, parentOf } from '../process/adopted-process';
import { addon } from '../native';
import { LentDevice } from '../net/device';
import type { Network } from '../net/network';
import { hostContext } from '../process/host-context';
import type { IsolatedProcess } from '../process/isolated-process';
import { devicePolicy } from '../security/device-policy';
import { protectionsOf } from '../security/protections';
import { seccompProgram } from '../security/seccomp-program';
import { buildSpawnPlan, identityArgs, identityOf, SpecError } from '../spawn-plan/plan';
import { AdoptedAddress, addressRecord, Leased, takeAddress } from './instance-network';
import { rebindNotify } from './adopted-notify';
import { HeldAcks } from './held-acks';
import { needsNotify, NotifyChannel, notifyCarried, openNotify } from './notify';
import { probeOnce, ProbeTarget } from './probes';
import { waitReady } from './readiness';
import { AdoptConnections } from './adopt-connections';
import { definitionDigest, KeeperState, processIdentity, removeKeeperFiles, socketPathOf, writeState } from './keeper-files';
import type { InstanceEnd, InstanceHandle, InstanceOptions, SlotCounters } from './runtime';

export interface InstanceRuntime {
  /** Directory for the services' notify sockets. */
  notifyDir: string;
  /** An fd of /dev/null for the services' stdin. */
  devNull: number;
  /** Where each instance gets its cgroup (limits, kill-all, OOM, stats); null runs services without one. */
  cgroups: CgroupDriver | null;
  /** The supervisor's declared networks, for `network.attach`. */
  networks?: Map<string, Network>;
  /** supervisor.adoptTimeout in force (a reload may change it): how long a new instance outlives a dead supervisor (0: it ends with it). */
  adoptTimeout?: () => number;
  /** Where instances leave their adoption socket and state file (keeper-files.ts); none without it. */
  keeperDir?: string;
}

/** An instance's adoption socket and state file: their directory and its cgroup's name, which names them. */
interface KeeperHold {
  dir: string;
  cgroup: string;
  service: string;
  slot: number;
}

/** What a successor learnt when it adopted an instance. */
export interface Adoption {
  at: Date;
  /** How long no supervisor held it. */
  orphanedMs: number;
  /** Lines of its output dropped while orphaned (nsvisor-init's buffer was full), stdout's and stderr's. */
  dropped: [number, number];
}

export class Instance implements InstanceHandle {
  /** Aborts the readiness wait (the instance ended, or a stop came). */
  private readonly abort = new AbortController();
  private stopping?: Promise<boolean>;

  private constructor(
    private settings: ServiceConfig,
    private readonly proc: IsolatedProcess,
    readonly cgroup: CgroupHandle | null,
    readonly ended: Promise<InstanceEnd>,
    private readonly notify: NotifyChannel | null,
    private readonly keeper: KeeperHold | null,
    /** Its address on a bridge, recorded for a successor. */
    private readonly leased: Leased | null,
    readonly startedAt = new Date(),
    /** Set when this supervisor took the instance over from one that died. */
    readonly adoption: Adoption | null = null,
  ) {
    void ended.then(() => {
      notify?.close();
      this.abort.abort();
      if (keeper) removeKeeperFiles(keeper.dir, keeper.cgroup);
    });
  }

  get pid(): number {
    return this.proc.pid;
  }

  get mainPid(): number | null {
    return this.proc.mainPid;
  }

  /**
   * Launches an instance: its cgroup (limited before the service's first instruction), address, nsvisor-init, and
   * network before it runs anything. Rejects with a LaunchFailure, having released all of it.
   */
  static async spawn(name: string, settings: ServiceConfig, runtime: InstanceRuntime, opts: InstanceOptions): Promise<Instance> {
    let notify: NotifyChannel | null = null;
    let pipes: number[] = [];
    let adoptFd: number | null = null;
    const keeper = keeperOf(name, runtime, opts);
    try {
      notify = needsNotify(settings) ? openNotify(runtime.notifyDir, opts.instanceName, { onStatus: opts.onStatusText, onWatchdog: opts.onWatchdog }) : null;
      pipes = [...addon.pipe(), ...addon.pipe()];
      if (keeper) adoptFd = addon.listenUnix(socketPathOf(keeper.dir, keeper.cgroup), 4, 0o600);
    } catch (e) {
      notify?.close();
      for (const fd of pipes) fs.closeSync(fd);
      throw LaunchFailure.from(e);
    }
    const [outR, outW, errR, errW] = pipes;
    try {
      const launched = await launch({
        name: opts.instanceName,
        owner: name,
        plan: (seccompFd) => plan(name, settings, runtime, opts, notify, [outR, outW, errR, errW], seccompFd, adoptFd),
        seccomp: () => {
          const p = protectionsOf(settings);
          return seccompProgram(p.seccomp, p.capabilities);
        },
        devices: () => devicePolicy(protectionsOf(settings)),
        resources: settings.resources,
        cgroups: runtime.cgroups,
        network: networkOf(settings, runtime),
        device: settings.network?.device ?? null,
        onReaped: opts.onReaped,
        onTrouble: opts.onTrouble,
        onTeardownFailure: opts.onTrouble,
      });
      opts.onOutput(new PipeInput(outR), 'stdout');
      opts.onOutput(new PipeInput(errR), 'stderr');
      return new Instance(settings, launched.proc, launched.cgroup, launched.ended, notify, keeper, launched.leased);
    } catch (e) {
      for (const fd of [outR, errR]) fs.closeSync(fd);
      notify?.close();
      if (keeper) removeKeeperFiles(keeper.dir, keeper.cgroup);
      throw LaunchFailure.from(e);
    } finally {
      for (const fd of [outW, errW, ...(adoptFd === null ? [] : [adoptFd])]) fs.closeSync(fd); // nsvisor-init has its own
    }
  }

  /**
   * Takes over an instance a supervisor that died left running (its identity checked by the caller): connects to
   * its nsvisor-init's socket, gets the output pipes and what init kept of them, pins it by a pidfd, and checks
   * once more it is the process the state names. Throws (a LaunchFailure) when it cannot; nothing is changed then.
   */
  static adopt(state: KeeperState, settings: ServiceConfig, runtime: InstanceRuntime & { keeperDir: string; connections: AdoptConnections }, opts: InstanceOptions): Instance {
    let hand: ReturnType<typeof addon.adoptReceive>;
    let pidfd: number;
    try {
      pidfd = addon.pidfdOpen(state.initPid);
    } catch (e) {
      throw LaunchFailure.from(e);
    }
    let notify: NotifyChannel | null = null;
    let address: AdoptedAddress | null = null;
    let device: LentDevice | null = null;
    try {
      const now = processIdentity(state.initPid);
      if (now?.startTime !== state.startTime) throw new Error(`pid ${state.initPid} is not the instance's nsvisor-init any more`);
      notify = rebindNotify(state, settings, opts);
      address = takeAddress(state, settings, runtime.networks);
      const lent = settings.network?.device;
      if (lent) device = LentDevice.adopt(lent, state.initPid);
      hand = addon.adoptReceive(runtime.connections.take(state.cgroup), socketPathOf(runtime.keeperDir, state.cgroup), 2000);
    } catch (e) {
      notify?.close();
      if (address) void address.network.detach({ address: address.address });
      device?.forget();
      fs.closeSync(pidfd);
      throw LaunchFailure.from(e);
    }
    const proc = adoptedProcess(state.cgroup, state.initPid, state.mainPid, pidfd, hand.fd, { onReaped: opts.onReaped, onGarbage: opts.onTrouble });
    const cgroup = runtime.cgroups?.open(state.cgroup) ?? null;
    const held = { cgroup, network: address?.network ?? null, address: address?.address ?? null, hostIf: address?.hostIf ?? null, device };
    const ended = settleEnd(proc, held, { onTeardownFailure: opts.onTrouble }, Date.parse(state.startedAt));
    // What init held comes first; it forgets it only as we say it is written, so a successor that dies first loses none.
    const acks = new HeldAcks(hand.ackFd, [hand.held[0].length, hand.held[1].length]);
    void ended.then(() => acks.close());
    (['stdout', 'stderr'] as const).forEach((source, i) => {
      opts.onOutput(new PipeInput(hand[source], hand.held[i], (n) => acks.taken(i as 0 | 1, n)), source);
    });
    const keeper = { dir: runtime.keeperDir, cgroup: state.cgroup, service: state.service, slot: state.slot };
    const adoption: Adoption = { at: new Date(), orphanedMs: hand.orphanedMs, dropped: [hand.dropped[0], hand.dropped[1]] };
    const leased = address && { network: address.network.name, address: address.address };
    return new Instance(settings, proc, cgroup, ended, notify, keeper, leased, new Date(state.startedAt), adoption);
  }

  /** Writes the state file a successor adopts this instance by, with the slot's counters now (it runs). */
  keep(counters: SlotCounters): void {
    const k = this.keeper;
    const id = k && processIdentity(this.pid);
    if (!k || !id) return;
    const lastExit = counters.lastExit && { ...counters.lastExit, at: counters.lastExit.at.toISOString() };
    writeState(k.dir, {
      service: k.service, slot: k.slot, cgroup: k.cgroup, initPid: this.pid, mainPid: this.mainPid, ...id,
      startedAt: this.startedAt.toISOString(), definition: definitionDigest(this.settings), settings: this.settings,
      starts: counters.starts, restarts: counters.restarts, reaped: counters.reaped, lastExit, exits: counters.exits, notify: this.notify?.path ?? null,
      network: addressRecord(this.leased),
    });
  }

  /** Why a successor could not adopt this instance as it runs now, or null when it could (`nsvisor upgrade` asks). */
  adoptionBlocker(): string | null {
    if (this.notify && notifyCarried(this.pid, this.notify.path)) return `its NOTIFY_SOCKET ${this.notify.path} is carried into its mount namespace`;
    return null;
  }

  /** Resolves when the ready check passes; rejects when it times out or the instance ends first. */
  waitReady(): Promise<void> {
    return waitReady(this.settings.ready, this.probeTarget(), this.notify?.notified ?? Promise.resolve(), this.abort.signal);
  }

  probeHealth(): Promise<boolean> {
    const check = this.settings.health;
    if (!check || check.type === 'watchdog') return Promise.resolve(true);
    return probeOnce(check, this.probeTarget(), check.timeout, this.abort.signal);
  }

  /** Where probes of this instance run: its namespaces, as its user. */
  probeTarget(): ProbeTarget {
    const id = identityOf(this.settings);
    const seccomp = seccompProgram(id.seccomp, id.capabilities);
    return { pid: this.pid, netIsolated: (this.settings.isolate ?? []).includes('net'), identity: identityArgs(id), seccomp };
  }

  async retune(prev: ServiceConfig, next: ServiceConfig): Promise<void> {
    this.cgroup?.updateLimits(prev.resources, next.resources);
    this.settings = next;
  }

  /** Sends a signal through nsvisor-init; false once it is gone. */
  kill(signal: NodeJS.Signals): boolean {
    return this.proc.kill(signal);
  }

  /**
   * A signal for the main process. nsvisor-init forwards every signal but the fault signals, which it keeps for
   * itself (as tini does): SIGABRT (a watchdog's) goes to the main process directly.
   */
  private signalMain(signal: NodeJS.Signals): void {
    const main = this.proc.mainPid;
    // Only while it is still nsvisor-init's child: a pid that ended may have been given to another process.
    if (signal !== 'SIGABRT' || main === null || parentOf(main) !== this.proc.pid) return void this.proc.kill(signal);
    try {
      process.kill(main, signal);
    } catch {
      this.proc.kill(signal); // it is gone already: the stop goes on through nsvisor-init
    }
  }

  /**
   * stop.signal through nsvisor-init; after stop.timeout plus the drain, SIGKILL of it (its pid namespace goes
   * with it) and of everything else in its cgroup. Resolves with whether it had to be killed, once it is released.
   */
  stop(signal?: NodeJS.Signals): Promise<boolean> {
    return (this.stopping ??= this.stopOnce(signal ?? (this.settings.stop.signal as NodeJS.Signals)));
  }

  private async stopOnce(signal: NodeJS.Signals): Promise<boolean> {
    this.abort.abort();
    const { timeout, drain } = this.settings.stop;
    this.signalMain(signal);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeout + drain)));
    const killed = await Promise.race([this.proc.exited.then(() => false), late]);
    clearTimeout(timer);
    if (killed) {
      this.proc.kill('SIGKILL');
      // Whatever left nsvisor-init's namespace is still in the cgroup; the teardown removes the cgroup after this.
      await this.cgroup?.kill().catch(() => undefined);
    }
    await this.ended;
    return killed;
  }
}

/** `pipes`: the read and write ends of stdout's pipe, then of stderr's. */
function plan(name: string, s: ServiceConfig, runtime: InstanceRuntime, opts: InstanceOptions, notify: NotifyChannel | null, pipes: number[], seccompFd: number | undefined, adoptFd: number | null) {
  const listen = opts.listen;
  const [outR, outW, errR, errW] = pipes;
  const adoptMs = runtime.adoptTimeout?.() ?? 0;
  return buildSpawnPlan(
    s,
    hostContext({
      name,
      stdio: [runtime.devNull, outW, errW],
      passFds: listen?.fds ?? [],
      newSession: true,
      baseEnv: { ...(notify ? { NOTIFY_SOCKET: notify.path } : {}), ...watchdogEnv(s), ...listen?.env(), ...opts.env },
      notifySocket: notify?.path,
      seccompFd,
      keeper: adoptMs > 0 ? { adoptMs, outputFds: [outR, errR], adoptFd: adoptFd ?? undefined } : undefined,
    }),
  );
}

/** Where a new instance leaves its adoption socket and state file, or null when it cannot be adopted. */
function keeperOf(name: string, runtime: InstanceRuntime, opts: InstanceOptions): KeeperHold | null {
  if (!runtime.keeperDir || !(runtime.adoptTimeout?.() ?? 0) || opts.slot === undefined) return null;
  return { dir: runtime.keeperDir, cgroup: opts.instanceName, service: name, slot: opts.slot };
}


/** WATCHDOG_USEC for health.watchdog, as systemd sets it (nsvisor-init adds WATCHDOG_PID once it knows the main process). */
function watchdogEnv(s: ServiceConfig): Record<string, string> {
  return s.health?.type === 'watchdog' ? { WATCHDOG_USEC: String(s.health.watchdog * 1000) } : {};
}

/** The network of `network.attach` and the configured address, or null without one. */
function networkOf(settings: ServiceConfig, runtime: InstanceRuntime): { network: Network; wanted?: number } | null {
  const attach = settings.network?.attach;
  if (!attach) return null;
  const network = runtime.networks?.get(attach);
  if (!network) throw new SpecError('network.attach', `no network ${attach} is declared`);
  const wanted = settings.network?.address;
  return { network, wanted: wanted === undefined ? undefined : parseIPv4(wanted) ?? undefined };
}
