// One instance position of a service (its only one, or one of `instances`): starts instances, waits until ready, restarts with backoff or without downtime, stops gracefully.
import { EventEmitter } from 'eventemitter3';

import type { CgroupHandle } from '../cgroup';
import type { ServiceConfig } from '../config/schema';
import { classifyEnd, ExitCounts, ExitRecord, noExits } from '../launch/exit-reason';
import { LaunchFailure } from '../launch/failure';
import { describeSeccompDeath } from '../launch/seccomp-death';
import { Backoff, shouldRestart } from './backoff';
import type { RestartMode, SlotEvents } from './events';
import { HealthMonitor } from './health';
import { replaceInstance } from './replace';
import type { InstanceEnd, InstanceHandle, InstanceOptions, ListenHold, ServiceRuntime, SlotCounters } from './runtime';
import { assertTransition, ServiceState } from './states';

/** The held `listen` sockets of the service, shared by its slots: made on first use, null without `listen`. */
export type ListenProvider = (settings: ServiceConfig) => Promise<ListenHold | null>;

export class Slot extends EventEmitter<SlotEvents> {
  state: ServiceState = 'stopped';
  startedAt: Date | null = null;
  starts = 0;
  /** Automatic restarts only (after an exit the restart policy answered), as systemd's NRestarts. */
  restarts = 0;
  /** Orphans reaped by the nsvisor-init of every instance so far. */
  reaped = 0;
  lastExit: ExitRecord | null = null;
  /** Instances ended (and starts that failed), by reason: the exits_total of the metrics, carried across an adoption. */
  exits: ExitCounts = noExits();
  /** Why the last attempt failed (spawn error, readiness), for status; cleared by a good start and by stop. */
  failure: string | null = null;
  /** Something that went wrong without ending the service (a teardown step, a log write), for status. */
  warning: string | null = null;
  /** The service's own words, from sd_notify STATUS=, while its instance runs. */
  statusText: string | null = null;
  /** When the next start is due, while in backoff. */
  nextStartAt: Date | null = null;

  /** The instance that serves: the one status, metrics and exec see. */
  current: InstanceHandle | null = null;
  /** The new instance of a zero-downtime restart, until it is ready. */
  candidate: InstanceHandle | null = null;
  /** Every instance not yet ended: the current one, a candidate, old ones still draining. */
  private readonly alive = new Set<InstanceHandle>();
  /** Watches the serving instance once it is ready (health). */
  private monitor: HealthMonitor | null = null;
  /** Instances ended because their health check failed: their exit reason is `unhealthy`. */
  private readonly sick = new WeakSet<InstanceHandle>();
  private wanted = false;
  private backoff: Backoff;
  private retryTimer: unknown;
  private stopping?: Promise<void>;
  private replacing?: Promise<void>;
  /** The instance being spawned, or null when that spawn failed. */
  private spawning: Promise<InstanceHandle | null> = Promise.resolve(null);
  private waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];

  /** The slot's name: the service's for slot 0, NAME.K for slot K; its instances' cgroups are named after it. */
  readonly name: string;

  /** `settings`: the definition the slot runs with; a reload changes it (in place, or by replacing the instances). */
  constructor(
    readonly service: string,
    readonly index: number,
    public settings: ServiceConfig,
    private readonly runtime: ServiceRuntime,
    private readonly listen: ListenProvider,
  ) {
    super();
    this.name = index === 0 ? service : `${service}.${index}`;
    this.backoff = new Backoff(settings.restart);
  }

  /** Host pid of the current instance's main process (or of its nsvisor-init when that is not known). */
  get pid(): number | null {
    return this.current ? this.current.mainPid ?? this.current.pid : null;
  }

  /** Host pid of the current instance's nsvisor-init: `exec` joins its namespaces. */
  get initPid(): number | null {
    return this.current?.pid ?? null;
  }

  /** The cgroup of the current instance. */
  get cgroup(): CgroupHandle | null {
    return this.current?.cgroup ?? null;
  }

  /** Asks for the service to run; resolves once it is running and ready, rejects if it fails for good or is stopped first. */
  start(): Promise<void> {
    this.wanted = true;
    if (this.state === 'stopped' || this.state === 'failed') this.attempt(false);
    return this.whenRunning();
  }

  /** Resolves at the first outcome of a start: running, backing off, or failed. */
  settled(): Promise<void> {
    const outcome = (s: ServiceState) => s === 'running' || s === 'backoff' || s === 'failed';
    if (outcome(this.state)) return Promise.resolve();
    return new Promise((resolve) => {
      const on = (_n: string, s: ServiceState) => {
        if (!outcome(s)) return;
        this.off('state', on);
        resolve();
      };
      this.on('state', on);
    });
  }

  whenRunning(): Promise<void> {
    if (this.state === 'running') return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Marks a stopped service failed without trying it: a start that can never work on this host (the host checks said why). */
  fail(reason: string): void {
    this.failure = reason;
    this.setState('failed');
  }

  /** Stops the service and keeps it stopped; resolves once nothing of it runs. */
  stop(): Promise<void> {
    this.wanted = false;
    this.failure = null;
    this.unwatch();
    this.runtime.clock.clearTimer(this.retryTimer);
    if (this.state === 'backoff' || this.state === 'failed') this.setState('stopped');
    if (this.state === 'stopped') return Promise.resolve();
    return (this.stopping ??= this.stopInstances().finally(() => (this.stopping = undefined)));
  }

  /** Whether restart() would be zero-downtime now: listen sockets, a running instance, and nothing only one instance can have. */
  get replaceable(): boolean {
    const n = this.settings.network;
    return this.settings.listen.length > 0 && this.state === 'running' && this.current !== null && !n?.address && !n?.device;
  }

  /**
   * Zero-downtime when replaceable (SPEC 4.6): a new instance on the same sockets, and once it is ready the old one
   * stops and drains; rejects with a RestartError, the old instance still serving, if the new one does not get
   * ready. Otherwise stop, then start.
   */
  async restart(): Promise<RestartMode> {
    if (this.replacing || this.replaceable) {
      await (this.replacing ??= replaceInstance(this).finally(() => (this.replacing = undefined)));
      return 'zero-downtime';
    }
    await this.stop();
    await this.start();
    return 'stop-start';
  }

  /**
   * Takes a new definition that differs only in keys a running instance can take (resources, restart, stop,
   * ready.timeout, dependsOn): new limits are written to the cgroup of every instance alive. A limit the kernel
   * refuses rejects with a LaunchFailure, the instances' limits put back as they were and the definition unchanged.
   */
  async reconfigure(next: ServiceConfig): Promise<void> {
    const prev = this.settings;
    const touched: InstanceHandle[] = [];
    try {
      for (const inst of this.alive) {
        touched.push(inst);
        await inst.retune(prev, next);
      }
    } catch (e) {
      // Back as they were, the one that failed halfway included (writing a value it still has is harmless).
      for (const inst of touched) await inst.retune(next, prev).catch(() => undefined);
      throw LaunchFailure.from(e);
    }
    const healthChanged = JSON.stringify(prev.health) !== JSON.stringify(next.health);
    this.settings = next;
    this.backoff = new Backoff(next.restart);
    if (healthChanged && this.state === 'running' && this.current) this.watch(this.current);
    this.keepState(); // a successor compares the definition the instance runs now
  }

  /**
   * Replaces the running instance with one of a new definition: without downtime when `zeroDowntime` and possible
   * (the old one stops once the new one is ready; if it is not, the old one keeps serving with the old definition
   * and this rejects with a RestartError), else stop, then (when `start`) start with the new definition, resolving at
   * its first outcome.
   */
  async redefine(next: ServiceConfig, opts: { zeroDowntime: boolean; start: boolean }): Promise<void> {
    if (opts.zeroDowntime && this.replaceable) {
      await (this.replacing ??= replaceInstance(this, next).finally(() => (this.replacing = undefined)));
    } else {
      await this.stop();
    }
    this.settings = next;
    this.backoff = new Backoff(next.restart);
    if (this.state !== 'stopped' || !opts.start) return;
    this.start().catch(() => undefined); // the caller reads the outcome from settled()
    await this.settled();
  }

  /** Sends a signal to the running instance (through nsvisor-init); false when none runs. */
  kill(signal: NodeJS.Signals): boolean {
    return this.current?.kill(signal) ?? false;
  }

  private setState(next: ServiceState): void {
    const prev = this.state;
    if (prev === next) return;
    assertTransition(this.name, prev, next);
    this.state = next;
    this.nextStartAt = null;
    this.emit('state', this.name, next, prev);
    if (next === 'running') this.settle();
    else if (next === 'failed' || (next === 'stopped' && !this.wanted)) this.settle(new Error(`${this.name}: ${next}${this.failure ? `: ${this.failure}` : ''}`));
  }

  private settle(err?: Error): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) (err ? w.reject(err) : w.resolve());
  }

  /**
   * Spawns an instance on the service's sockets (a second one alive beside another gets a cgroup and notify socket
   * of its own, SLOT.rN) and watches its end; rejects with a LaunchFailure only. A stop arriving meanwhile waits for it.
   */
  spawnInstance(automatic: boolean, settings = this.settings): Promise<InstanceHandle> {
    this.starts++;
    if (automatic) this.restarts++;
    this.emit('attempt', this.name, automatic);
    const spawning = this.spawnOnce(settings);
    this.spawning = spawning.catch(() => null);
    return spawning;
  }

  private async spawnOnce(settings: ServiceConfig): Promise<InstanceHandle> {
    const listen = await this.listen(settings);
    const self: { inst?: InstanceHandle } = {};
    const inst = await this.runtime.spawn(settings, {
      ...this.instanceOptions(self),
      instanceName: this.alive.size === 0 ? this.name : `${this.name}.r${this.starts}`,
      listen,
      // Each of several instances knows which it is (as PM2's NODE_APP_INSTANCE).
      env: settings.instances > 1 ? { NSVISOR_INSTANCE: String(this.index) } : {},
    });
    self.inst = inst;
    this.track(inst);
    return inst;
  }

  /** What an instance of this slot reports to it, `self.inst` being that instance once it exists. */
  private instanceOptions(self: { inst?: InstanceHandle }): Omit<InstanceOptions, 'instanceName' | 'listen' | 'env'> {
    return {
      slot: this.index,
      onStatusText: (text) => (this.statusText = text),
      onOutput: (input, source) => this.emit('output', this.name, input, source),
      onReaped: (n) => {
        this.reaped += n;
        this.emit('reaped', this.name, n);
      },
      onTrouble: (f) => {
        this.warning = f.message;
        this.emit('trouble', this.name, f);
      },
      onWatchdog: () => {
        if (this.current === self.inst) this.monitor?.ping();
      },
    };
  }

  private track(inst: InstanceHandle): void {
    this.alive.add(inst);
    void inst.ended.then((end) => {
      this.alive.delete(inst);
      this.onExit(inst, end);
    }).catch((e) => this.emit('trouble', this.name, LaunchFailure.from(e)));
  }

  /**
   * Takes over a running instance a supervisor that died left (`take` connects to it with this slot's options),
   * with the counters that supervisor had: the slot runs it as if it had started it, from `stopped` to `running`
   * without a start. Throws what `take` throws, the slot unchanged.
   */
  adopt(take: (opts: Omit<InstanceOptions, 'instanceName' | 'listen' | 'env'>) => InstanceHandle, counters: SlotCounters): InstanceHandle {
    if (this.state !== 'stopped') throw new Error(`${this.name}: cannot adopt an instance while ${this.state}`);
    const self: { inst?: InstanceHandle } = {};
    const inst = (self.inst = take(this.instanceOptions(self)));
    this.starts = counters.starts;
    this.restarts = counters.restarts;
    this.reaped = counters.reaped;
    this.lastExit = counters.lastExit;
    this.exits = { ...counters.exits };
    this.wanted = true;
    this.setState('starting');
    this.track(inst);
    this.current = inst;
    this.startedAt = inst.startedAt;
    this.setState('running');
    this.watch(inst);
    const a = inst.adoption;
    const dropped = (a?.dropped[0] ?? 0) + (a?.dropped[1] ?? 0);
    this.emit('adopted', this.name, { pid: inst.pid, orphanedMs: a?.orphanedMs ?? 0, dropped, starts: this.starts, restarts: this.restarts, reaped: this.reaped, exits: { ...this.exits } });
    return inst;
  }

  private attempt(automatic: boolean): void {
    this.runAttempt(automatic).catch((e) => this.emit('trouble', this.name, LaunchFailure.from(e)));
  }

  private async runAttempt(automatic: boolean): Promise<void> {
    this.setState('starting');
    const t0 = performance.now();
    let inst: InstanceHandle;
    try {
      inst = await this.spawnInstance(automatic);
    } catch (e) {
      return this.spawnFailed(LaunchFailure.from(e));
    }
    this.current = inst;
    this.startedAt = inst.startedAt;
    this.emit('spawned', this.name, seconds(t0));
    if (this.state !== 'starting') return; // a stop came while we were spawning: stopInstances takes this instance
    try {
      await inst.waitReady();
    } catch (e) {
      if (this.current !== inst || this.state !== 'starting') return; // it ended, or a stop took over
      this.failure = `not ready: ${(e as Error).message}`;
      this.emit('notReady', this.name, (e as Error).message);
      inst.kill('SIGKILL'); // a failed attempt: onExit decides on the retry
      return;
    }
    if (this.current !== inst || this.state !== 'starting') return;
    this.failure = null;
    this.warning = null;
    // Written before anyone hears it runs: a supervisor killed from then on leaves it adoptable.
    inst.keep?.(this.counters());
    this.emit('ready', this.name, seconds(t0));
    this.setState('running');
    this.watch(inst);
  }

  /** The counters a successor carries on from. */
  counters(): SlotCounters {
    return { starts: this.starts, restarts: this.restarts, reaped: this.reaped, lastExit: this.lastExit, exits: { ...this.exits } };
  }

  /** The state file of the serving instance written anew (an exit beside it was counted, its definition changed). */
  private keepState(): void {
    if (this.state === 'running' && this.current) this.current.keep?.(this.counters());
  }

  /** Starts watching the serving instance's health (replacing any watch of an earlier one). */
  watch(inst: InstanceHandle): void {
    this.unwatch();
    const check = this.settings.health;
    if (!check) return;
    this.monitor = new HealthMonitor(check, this.runtime.clock, {
      probe: () => inst.probeHealth(),
      onResult: (ok) => this.emit('health', this.name, ok),
      onUnhealthy: (why) => this.onUnhealthy(inst, why),
    });
  }

  private unwatch(): void {
    this.monitor?.stop();
    this.monitor = null;
  }

  /**
   * The serving instance failed its health check: replaced without downtime where the service can (the sick one
   * stops once the new one is ready), else stopped, which the restart policy answers as it does a crash (with its
   * backoff). A watchdog that was not reset gets SIGABRT first, as systemd's WatchdogSignal, then the stop sequence.
   */
  private onUnhealthy(inst: InstanceHandle, why: string): void {
    if (this.current !== inst || this.state !== 'running') return;
    this.monitor = null;
    this.sick.add(inst);
    this.failure = `unhealthy: ${why}`;
    this.emit('unhealthy', this.name, why);
    const end = () => void inst.stop(this.settings.health?.type === 'watchdog' ? 'SIGABRT' : undefined);
    if (!this.replaceable) return end();
    (this.replacing ??= replaceInstance(this, this.settings, true).finally(() => (this.replacing = undefined))).catch(end);
  }

  /** Records a start that did not reach the command as a spawn_failed exit. */
  recordSpawnFailure(f: LaunchFailure): void {
    this.failure = f.message;
    this.lastExit = { code: f.exitCode, signal: null, reason: 'spawn_failed', at: new Date() };
    this.exits.spawn_failed++;
    this.emit('startFailed', this.name, f);
    this.emit('exit', this.name, this.lastExit, false, null);
  }

  /** A start that did not reach the command: failed for good when it can never work, else a retry. */
  private spawnFailed(f: LaunchFailure): void {
    this.recordSpawnFailure(f);
    if (this.state === 'stopping') return; // stopInstances finishes the job
    if (f.permanent) this.setState('failed');
    else if (!this.wanted) this.setState('stopped');
    else this.scheduleRetry(0);
  }

  private onExit(inst: InstanceHandle, end: InstanceEnd): void {
    const exit = classifyEnd(end);
    this.lastExit = this.sick.has(inst) ? { ...exit, reason: 'unhealthy' } : exit;
    this.exits[this.lastExit.reason]++;
    if (exit.seccomp && inst === this.current) this.failure = describeSeccompDeath(exit.seccomp); // the NOTE of status, until a start is ready
    const final = inst.cgroup && end.final ? { cgroup: inst.cgroup, stats: end.final } : null;
    this.emit('exit', this.name, this.lastExit, inst !== this.current, final);
    if (inst === this.candidate) this.candidate = null; // replaceInstance learns it from the failed readiness wait
    if (inst !== this.current) return this.keepState(); // a candidate, or an old instance retired by a zero-downtime restart
    this.current = null;
    this.unwatch();
    this.statusText = null;
    if (this.state === 'stopping') return; // stopInstances finishes the job
    // The serving instance died during a zero-downtime restart: the restart gives up, the usual retry follows.
    this.candidate?.kill('SIGKILL');
    const ranFor = this.runtime.clock.now() - inst.startedAt.getTime();
    if (this.wanted && shouldRestart(this.settings.restart.policy, this.lastExit.reason)) this.scheduleRetry(ranFor);
    else {
      this.wanted = false;
      this.setState('stopped');
    }
  }

  private scheduleRetry(ranFor: number): void {
    const delay = this.backoff.next(ranFor);
    this.setState('backoff');
    this.nextStartAt = new Date(this.runtime.clock.now() + delay);
    this.emit('backoff', this.name, delay);
    this.retryTimer = this.runtime.clock.setTimer(() => this.attempt(true), delay);
  }

  /** Stops every instance still alive (the current one, a candidate, old ones draining) with stop.signal, then SIGKILL after the timeout. */
  private async stopInstances(): Promise<void> {
    this.setState('stopping');
    await this.spawning;
    const t0 = performance.now();
    const instances = [...this.alive];
    if (!instances.length) return this.setState('stopped');
    const killed = (await Promise.all(instances.map((i) => i.stop()))).some(Boolean);
    this.setState('stopped');
    this.emit('stopped', this.name, seconds(t0), killed);
  }
}

const seconds = (since: number) => (performance.now() - since) / 1000;
