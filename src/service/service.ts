// One supervised service: starts instances, waits until ready, restarts with backoff or without downtime, stops gracefully.
import { EventEmitter } from 'eventemitter3';
import type * as net from 'net';
import * as path from 'path';

import { CgroupError } from '../cgroup';
import type { CgroupHandle, CgroupStats } from '../cgroup';
import type { ServiceConfig } from '../config/schema';
import { AddressError } from '../net/ipam';
import { SpawnError } from '../process/spawn-error';
import { SpecError } from '../spec/spawn-spec';
import { Backoff, shouldRestart } from './backoff';
import { classifyExit, ExitRecord } from './exit-reason';
import { Instance, InstanceEnd, InstanceRuntime } from './instance';
import { ListenError, ListenSockets } from './listen-sockets';
import { assertTransition, ServiceState } from './states';

/** An ended instance's cgroup (its identity for the metrics) and the figures it last had. */
export interface FinalFigures {
  cgroup: CgroupHandle;
  stats: CgroupStats;
}

export interface ServiceEvents {
  state: (name: string, state: ServiceState, previous: ServiceState) => void;
  /**
   * `aside` is true for an instance that was not serving: one retired by a zero-downtime restart, or its failed
   * replacement. `final`: the instance's cgroup and its figures read just before it was removed (null without one).
   */
  exit: (name: string, exit: ExitRecord, aside: boolean, final: FinalFigures | null) => void;
  spawned: (name: string, seconds: number) => void;
  ready: (name: string, seconds: number) => void;
  stopped: (name: string, seconds: number, killed: boolean) => void;
  /** nsvisor-init reaped `count` orphans (processes of the service whose parent had ended), reported in batches. */
  reaped: (name: string, count: number) => void;
  output: (name: string, stream: net.Socket, source: 'stdout' | 'stderr') => void;
  /** A zero-downtime restart began: a new instance starts beside the running one (a start and a restart). */
  replacing: (name: string) => void;
}

export type ServiceRuntime = InstanceRuntime;

/** How `restart` went about it: a new instance beside the old one, or stop then start. */
export type RestartMode = 'zero-downtime' | 'stop-start';

/** A zero-downtime restart whose new instance did not get ready; the old instance keeps serving. */
export class RestartError extends Error {}

const seconds = (since: number) => (performance.now() - since) / 1000;

export class Service extends EventEmitter<ServiceEvents> {
  state: ServiceState = 'stopped';
  startedAt: Date | null = null;
  starts = 0;
  restarts = 0;
  /** Orphans reaped by the nsvisor-init of every instance so far. */
  reaped = 0;
  lastExit: ExitRecord | null = null;
  /** Why the last attempt failed (spawn error, readiness), for status. */
  failure: string | null = null;
  /** The service's own words, from sd_notify STATUS=. */
  statusText: string | null = null;
  /** When the next start is due, while in backoff. */
  nextStartAt: Date | null = null;

  /** The instance that serves: the one status, metrics and exec see. */
  private current: Instance | null = null;
  /** The new instance of a zero-downtime restart, until it is ready. */
  private candidate: Instance | null = null;
  /** Every instance not yet ended: the current one, a candidate, old ones still draining. */
  private readonly alive = new Set<Instance>();
  /** The sockets of `listen`, held from the first start until the service is stopped for good. */
  private listen: ListenSockets | null = null;
  private wanted = false;
  private readonly backoff: Backoff;
  private retryTimer?: NodeJS.Timeout;
  private stopping?: Promise<void>;
  private replacing?: Promise<void>;
  /** The instance being spawned, or null when that spawn failed. */
  private spawning: Promise<Instance | null> = Promise.resolve(null);
  private waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];

  constructor(readonly name: string, readonly settings: ServiceConfig, private readonly runtime: ServiceRuntime) {
    super();
    this.backoff = new Backoff(settings.restart);
  }

  /** Host pid of the current instance's nsvisor-init. */
  get pid(): number | null {
    return this.current?.pid ?? null;
  }

  /** The cgroup of the current instance. */
  get cgroup(): CgroupHandle | null {
    return this.current?.cgroup ?? null;
  }

  /** Asks for the service to run; resolves once it is running and ready, rejects if it fails for good or is stopped first. */
  start(): Promise<void> {
    this.wanted = true;
    if (this.state === 'stopped' || this.state === 'failed') void this.attempt();
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

  /** Stops the service and keeps it stopped; resolves once nothing of it runs. */
  stop(): Promise<void> {
    this.wanted = false;
    clearTimeout(this.retryTimer);
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
      await (this.replacing ??= this.replace().finally(() => (this.replacing = undefined)));
      return 'zero-downtime';
    }
    await this.stop();
    await this.start();
    return 'stop-start';
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
    if (next === 'stopped' || next === 'failed') this.closeListen();
    this.emit('state', this.name, next, prev);
    if (next === 'running') this.settle();
    else if (next === 'failed' || (next === 'stopped' && !this.wanted)) this.settle(new Error(`${this.name}: ${next}${this.failure ? `: ${this.failure}` : ''}`));
  }

  private settle(err?: Error): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) (err ? w.reject(err) : w.resolve());
  }

  private closeListen(): void {
    this.listen?.close();
    this.listen = null;
  }

  /** Spawns an instance on the service's sockets; its end is handled by onExit. */
  private async spawnInstance(): Promise<Instance> {
    if (this.settings.listen.length) this.listen ??= await ListenSockets.open(this.name, this.settings.listen);
    // A second instance alive beside another gets a cgroup and notify socket of its own.
    const instanceName = this.alive.size === 0 ? this.name : `${this.name}.${this.starts}`;
    const inst = await Instance.spawn(this.name, this.settings, this.runtime, {
      instanceName,
      listen: this.listen,
      onStatusText: (text) => (this.statusText = text),
      onOutput: (stream, source) => this.emit('output', this.name, stream, source),
      onReaped: (n) => {
        this.reaped += n;
        this.emit('reaped', this.name, n);
      },
    });
    this.alive.add(inst);
    void inst.ended.then((end) => {
      this.alive.delete(inst);
      this.onExit(inst, end);
    });
    return inst;
  }

  /** spawnInstance(), remembered so that a stop arriving meanwhile waits for the instance and stops it too. */
  private spawnTracked(): Promise<Instance> {
    const spawning = this.spawnInstance();
    this.spawning = spawning.catch(() => null);
    return spawning;
  }

  private async attempt(): Promise<void> {
    this.setState('starting');
    if (this.starts++ > 0) this.restarts++;
    const t0 = performance.now();
    let inst: Instance;
    try {
      inst = await this.spawnTracked();
    } catch (e) {
      return this.spawnFailed(e as Error);
    }
    this.current = inst;
    this.startedAt = inst.startedAt;
    this.failure = null;
    this.emit('spawned', this.name, seconds(t0));
    if (this.state !== 'starting') return; // a stop came while we were spawning: stopInstances takes this instance
    try {
      await inst.waitReady();
    } catch (e) {
      if (this.current !== inst || this.state !== 'starting') return; // it ended, or a stop took over
      this.failure = `not ready: ${(e as Error).message}`;
      inst.kill('SIGKILL'); // a failed attempt: onExit decides on the retry
      return;
    }
    if (this.current !== inst || this.state !== 'starting') return;
    this.emit('ready', this.name, seconds(t0));
    this.setState('running');
  }

  /** The errors a start can meet before the command runs; anything else is a bug and propagates. */
  private static startFailure(e: Error): boolean {
    return e instanceof SpecError || e instanceof SpawnError || e instanceof CgroupError || e instanceof AddressError || e instanceof ListenError;
  }

  /** Records a start that did not reach the command as a spawn_failed exit. */
  private recordSpawnFailure(e: Error): void {
    if (!Service.startFailure(e)) throw e;
    this.failure = e.message;
    this.lastExit = { code: e instanceof SpawnError ? e.exitCode : null, signal: null, reason: 'spawn_failed', at: new Date() };
    this.emit('exit', this.name, this.lastExit, false, null);
  }

  /** A start that did not reach the command: failed for good when it can never work, else a retry. */
  private spawnFailed(e: Error): void {
    this.recordSpawnFailure(e);
    const permanent = e instanceof SpecError || e instanceof CgroupError || (e instanceof SpawnError && e.exitCode !== 125);
    if (this.state === 'stopping') return; // stopInstances finishes the job
    if (permanent || !this.wanted) this.setState(permanent ? 'failed' : 'stopped');
    else this.scheduleRetry(0);
  }

  private onExit(inst: Instance, end: InstanceEnd): void {
    this.lastExit = classifyExit(end.code, end.signal, end.oomKilled, new Date(), end.main);
    const final = inst.cgroup && end.final ? { cgroup: inst.cgroup, stats: end.final } : null;
    this.emit('exit', this.name, this.lastExit, inst !== this.current, final);
    if (inst === this.candidate) this.candidate = null; // replace() learns it from the failed readiness wait
    if (inst !== this.current) return; // a candidate, or an old instance retired by a zero-downtime restart
    this.current = null;
    if (this.state === 'stopping') return; // stopInstances finishes the job
    // The serving instance died during a zero-downtime restart: the restart gives up, the usual retry follows.
    this.candidate?.kill('SIGKILL');
    const ranFor = Date.now() - inst.startedAt.getTime();
    if (this.wanted && shouldRestart(this.settings.restart.policy, this.lastExit.reason)) this.scheduleRetry(ranFor);
    else {
      this.wanted = false;
      this.setState('stopped');
    }
  }

  private scheduleRetry(ranFor: number): void {
    const delay = this.backoff.next(ranFor);
    this.setState('backoff');
    this.nextStartAt = new Date(Date.now() + delay);
    this.retryTimer = setTimeout(() => void this.attempt(), delay);
  }

  /** The new instance beside the old; the old one stops (and drains) only once the new one is ready. */
  private async replace(): Promise<void> {
    const old = this.current!;
    this.starts++;
    this.restarts++;
    this.emit('replacing', this.name);
    const t0 = performance.now();
    let next: Instance;
    try {
      next = await this.spawnTracked();
    } catch (e) {
      this.recordSpawnFailure(e as Error);
      throw new RestartError(`${this.name}: the new instance did not start: ${(e as Error).message}; pid ${old.pid} keeps serving`);
    }
    // A stop, or the old instance's death (its usual retry follows), takes over from the restart.
    const interrupted = () => this.current !== old || this.state !== 'running';
    this.candidate = next;
    this.emit('spawned', this.name, seconds(t0));
    let notReady: Error | null = null;
    try {
      await next.waitReady();
    } catch (e) {
      notReady = e as Error;
    }
    if (notReady || interrupted()) {
      this.candidate = null;
      await next.stop(); // it may have accepted connections on the shared sockets already: let it finish them
      const why = interrupted() ? 'was interrupted' : `was not ready: ${notReady!.message}`;
      this.failure = `restart: the new instance ${why}`;
      throw new RestartError(`${this.name}: the new instance ${why}${this.current === old ? `; pid ${old.pid} keeps serving` : ''}`);
    }
    this.candidate = null;
    this.current = next;
    this.startedAt = next.startedAt;
    this.failure = null;
    this.emit('ready', this.name, seconds(t0));
    const s0 = performance.now();
    const killed = await old.stop();
    this.emit('stopped', this.name, seconds(s0), killed);
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

export const notifyDirOf = (controlSocket: string) => path.join(path.dirname(controlSocket), 'notify');
