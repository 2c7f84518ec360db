// One supervised service: its instance positions (one, or `instances` of them) run side by side on the service's held sockets; its state sums theirs.
import { EventEmitter } from 'eventemitter3';

import type { CgroupHandle } from '../cgroup';
import type { ServiceConfig } from '../config/schema';
import type { ExitRecord } from '../launch/exit-reason';
import type { RestartMode, ServiceEvents, SlotEvents } from './events';
import type { ListenHold, ServiceRuntime } from './runtime';
import { Slot } from './slot';
import type { ServiceState } from './states';

export type { RestartMode, ServiceEvents } from './events';

/** The events a slot sends up as the service's own (its state is summed instead). */
const FROM_SLOTS: (keyof SlotEvents)[] = [
  'attempt', 'exit', 'startFailed', 'notReady', 'backoff', 'health', 'unhealthy', 'trouble', 'spawned', 'ready', 'stopped', 'reaped', 'output',
  'adopted',
];

/** The state of a service from its slots': running once all run; else what the busiest of them is doing. */
export function summedState(states: ServiceState[]): ServiceState {
  if (states.every((s) => s === states[0])) return states[0] ?? 'stopped';
  for (const s of ['starting', 'stopping', 'backoff', 'failed', 'running'] as const) if (states.includes(s)) return s;
  return 'stopped';
}

export class Service extends EventEmitter<ServiceEvents> {
  state: ServiceState = 'stopped';
  readonly slots: Slot[] = [];
  /** The sockets of `listen`, held from the first start until the service is stopped for good, shared by the slots. */
  private listen: ListenHold | null = null;
  private opening: Promise<ListenHold> | null = null;
  private wanted = false;
  private waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];

  constructor(readonly name: string, public settings: ServiceConfig, private readonly runtime: ServiceRuntime) {
    super();
    for (let k = 0; k < settings.instances; k++) this.addSlot(k);
  }

  private addSlot(index: number): Slot {
    const slot = new Slot(this.name, index, this.settings, this.runtime, (s) => this.heldSockets(s));
    for (const event of FROM_SLOTS) slot.on(event, (...args: unknown[]) => (this.emit as any)(event, this.name, ...args.slice(1), slot.name));
    slot.on('state', () => this.sum(slot.name));
    this.slots[index] = slot;
    return slot;
  }

  /** Whether the service holds its listen sockets now. */
  get holdsSockets(): boolean {
    return this.listen !== null;
  }

  /** Adoption: the sockets got back from an adopted instance become the ones held (its other instances share them). */
  holdAdopted(sockets: ListenHold): void {
    if (this.listen) throw new Error(`${this.name}: holds its listen sockets already`);
    this.listen = sockets;
  }

  private heldSockets(settings: ServiceConfig): Promise<ListenHold | null> {
    if (!settings.listen.length) return Promise.resolve(null);
    if (this.listen) return Promise.resolve(this.listen);
    return (this.opening ??= this.runtime
      .openListen(this.name, settings.listen)
      .then((hold) => (this.listen = hold))
      .finally(() => (this.opening = null)));
  }

  /** The service's state anew from its slots'; said when it changed. The sockets go once nothing is wanted of it. */
  private sum(instance: string): void {
    const prev = this.state;
    const next = summedState(this.slots.map((s) => s.state));
    if (this.slots.every((s) => s.state === 'stopped' || s.state === 'failed')) {
      this.listen?.close();
      this.listen = null;
    }
    if (next === prev) return;
    this.state = next;
    this.emit('state', this.name, next, prev, instance);
    if (next === 'running') this.settle();
    else if (next === 'failed' || (next === 'stopped' && !this.wanted)) this.settle(new Error(`${this.name}: ${next}${this.failure ? `: ${this.failure}` : ''}`));
  }

  private settle(err?: Error): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) (err ? w.reject(err) : w.resolve());
  }

  /** The slot that stands for the service where one is asked for (pid, exec): the first with an instance serving. */
  private get first(): Slot {
    return this.slots.find((s) => s.current !== null) ?? this.slots[0];
  }

  get pid(): number | null {
    return this.first.pid;
  }

  get initPid(): number | null {
    return this.first.initPid;
  }

  get cgroup(): CgroupHandle | null {
    return this.first.cgroup;
  }

  get startedAt(): Date | null {
    return this.first.startedAt;
  }

  get starts(): number {
    return this.slots.reduce((n, s) => n + s.starts, 0);
  }

  get restarts(): number {
    return this.slots.reduce((n, s) => n + s.restarts, 0);
  }

  get reaped(): number {
    return this.slots.reduce((n, s) => n + s.reaped, 0);
  }

  /** The latest exit of any instance. */
  get lastExit(): ExitRecord | null {
    return this.slots.map((s) => s.lastExit).reduce<ExitRecord | null>((a, b) => (b && (!a || b.at >= a.at) ? b : a), null);
  }

  get failure(): string | null {
    return this.slots.find((s) => s.failure)?.failure ?? null;
  }

  set failure(text: string | null) {
    for (const s of this.slots) s.failure = text;
  }

  get warning(): string | null {
    return this.slots.find((s) => s.warning)?.warning ?? null;
  }

  set warning(text: string | null) {
    for (const s of this.slots) s.warning = text;
  }

  get statusText(): string | null {
    return this.first.statusText;
  }

  get nextStartAt(): Date | null {
    return this.slots.find((s) => s.nextStartAt)?.nextStartAt ?? null;
  }

  /** Its instance positions for the metrics: each one's serving cgroup and nsvisor-init. */
  get units(): { key: string; cgroup: CgroupHandle | null; pid: number | null }[] {
    return this.slots.map((s) => ({ key: s.name, cgroup: s.cgroup, pid: s.initPid }));
  }

  /** Instances serving now. */
  get running(): number {
    return this.slots.filter((s) => s.state === 'running').length;
  }

  /** The slot of an instance name (NAME, NAME.K), or null. */
  slot(instance: string): Slot | null {
    return this.slots.find((s) => s.name === instance) ?? null;
  }

  /** Asks for the service to run; resolves once every instance runs and is ready, rejects if one fails for good or a stop comes first. */
  start(): Promise<void> {
    this.wanted = true;
    for (const s of this.slots) s.start().catch(() => undefined); // the service's own waiters say how it went
    return this.whenRunning();
  }

  whenRunning(): Promise<void> {
    if (this.state === 'running') return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Resolves at the first outcome of every slot's start: running, backing off, or failed. */
  async settled(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.settled()));
  }

  /** Marks the stopped service failed without trying it (the host checks found it cannot work). */
  fail(reason: string): void {
    for (const s of this.slots) s.fail(reason);
  }

  /** Stops every instance and keeps the service stopped; resolves once nothing of it runs. */
  async stop(): Promise<void> {
    this.wanted = false;
    await Promise.all(this.slots.map((s) => s.stop()));
  }

  /** Whether a restart would be zero-downtime for every instance. */
  get replaceable(): boolean {
    return this.slots.every((s) => s.replaceable);
  }

  /** Restarts the instances one at a time, each new one ready before its old one stops where it can (SPEC 4.11). */
  async restart(): Promise<RestartMode> {
    let mode: RestartMode = 'zero-downtime';
    for (const s of [...this.slots]) if ((await s.restart()) === 'stop-start') mode = 'stop-start';
    return mode;
  }

  kill(signal: NodeJS.Signals): boolean {
    return this.slots.map((s) => s.kill(signal)).some(Boolean);
  }

  /**
   * Takes a definition that differs only in keys running instances can take (resources, restart, stop,
   * ready.timeout, health, dependsOn, instances): every slot is retuned, and a changed `instances` scales. A
   * slot that refuses (a limit the kernel refuses) puts back those already retuned and rejects.
   */
  async reconfigure(next: ServiceConfig): Promise<void> {
    const prev = this.settings;
    const done: Slot[] = [];
    try {
      for (const s of this.slots) {
        await s.reconfigure(next);
        done.push(s);
      }
    } catch (e) {
      for (const s of done) await s.reconfigure(prev).catch(() => undefined);
      throw e;
    }
    this.settings = next;
    if (next.instances !== prev.instances) await this.scale(next.instances);
  }

  /**
   * Replaces every instance with one of a new definition, one at a time (see Slot.redefine); the first that fails
   * stops the change there, the instances done keep the new definition.
   */
  async redefine(next: ServiceConfig, opts: { zeroDowntime: boolean; start: boolean }): Promise<void> {
    const start = opts.start || this.wanted;
    if (start) this.wanted = true;
    for (const s of [...this.slots]) await s.redefine(next, { ...opts, start });
    this.settings = next;
    if (next.instances !== this.slots.length) await this.scale(next.instances);
  }

  /**
   * Sets the number of instances: new slots start (when the service is wanted), the highest ones stop and go; the
   * others are not touched. Resolves once the new ones had their first outcome and the old ones have stopped.
   */
  async scale(n: number): Promise<void> {
    if (!Number.isInteger(n) || n < 1) throw new Error(`${this.name}: instances: expected a whole number, 1 or more, got ${n}`);
    this.settings = { ...this.settings, instances: n };
    for (const s of this.slots) s.settings = { ...s.settings, instances: n };
    const gone = this.slots.splice(n);
    const added: Slot[] = [];
    for (let k = this.slots.length; k < n; k++) added.push(this.addSlot(k));
    await Promise.all(gone.map((s) => s.stop()));
    for (const s of gone) s.removeAllListeners();
    if (this.wanted) {
      for (const s of added) s.start().catch(() => undefined);
      await Promise.all(added.map((s) => s.settled()));
    }
    this.sum(this.name);
  }
}
