// Fakes of what a Service needs (instances, listen sockets, a clock) so its state machine runs in unit tests, with time moved by hand.
import { validateConfig } from '../../src/config/schema';
import type { ServiceConfig } from '../../src/config/schema';
import type { LaunchEnd } from '../../src/launch/launch';
import type { LaunchFailure } from '../../src/launch/failure';
import type { Clock, InstanceHandle, InstanceOptions, ListenHold, ServiceRuntime, SlotCounters } from '../../src/service/runtime';

/** A clock whose timers fire only when the test advances it. */
export class FakeClock implements Clock {
  private t = 1_000_000;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private ids = 0;

  now(): number {
    return this.t;
  }

  setTimer(fn: () => void, ms: number): unknown {
    const id = ++this.ids;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }

  clearTimer(timer: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== timer);
  }

  pending(): number {
    return this.timers.length;
  }

  /** Moves time on by `ms`, firing each timer due meanwhile in order (and letting promises settle after each). */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
      await settle();
    }
    this.t = end;
    await settle();
  }
}

/** Lets every promise callback queued so far run (several turns: chains of awaits). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
}

const END_OK: LaunchEnd = { code: 0, signal: null, main: { code: 0, signal: null }, oomKilled: false, final: null };

/** An instance the test drives: it gets ready, exits, or is stopped when the test says so. */
export class FakeInstance implements InstanceHandle {
  readonly startedAt: Date;
  readonly mainPid: number;
  readonly cgroup = null;
  readonly ended: Promise<LaunchEnd>;
  readonly signals: NodeJS.Signals[] = [];
  stopCalls = 0;
  private endIt!: (end: LaunchEnd) => void;
  private ready!: () => void;
  private notReady!: (e: Error) => void;
  private readonly readiness: Promise<void>;
  done = false;

  constructor(readonly pid: number, clock: FakeClock, readonly opts: InstanceOptions) {
    this.startedAt = new Date(clock.now());
    this.mainPid = pid + 1;
    this.ended = new Promise((r) => (this.endIt = r));
    this.readiness = new Promise((resolve, reject) => ((this.ready = resolve), (this.notReady = reject)));
    this.readiness.catch(() => undefined);
  }

  waitReady(): Promise<void> {
    return this.readiness;
  }

  /** What the next health probes answer, in order; once used up, they pass. */
  readonly healthAnswers: (boolean | 'hang')[] = [];
  probes = 0;

  probeHealth(): Promise<boolean> {
    this.probes++;
    const a = this.healthAnswers.shift() ?? true;
    return a === 'hang' ? new Promise(() => undefined) : Promise.resolve(a);
  }

  becomeReady(): void {
    this.ready();
  }

  failReadiness(why: string): void {
    this.notReady(new Error(why));
  }

  /** The main process ends: exit code `code` (or killed by `signal`). */
  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    if (this.done) return;
    this.done = true;
    this.notReady(new Error('ended before it was ready'));
    this.endIt(signal ? { ...END_OK, code: null, signal, main: null } : { ...END_OK, code, main: { code, signal: null } });
  }

  kill(signal: NodeJS.Signals): boolean {
    if (this.done) return false;
    this.signals.push(signal);
    if (signal === 'SIGKILL') this.exit(null, 'SIGKILL');
    return true;
  }

  /** Limits the test wants refused (as the kernel refuses memory below usage on v1). */
  refuse: RegExp | null = null;
  readonly retuned: [ServiceConfig, ServiceConfig][] = [];

  async retune(prev: ServiceConfig, next: ServiceConfig): Promise<void> {
    if (this.refuse && this.refuse.test(JSON.stringify(next.resources))) throw new Error(`refused ${JSON.stringify(next.resources)}`);
    this.retuned.push([prev, next]);
  }

  /** What was written to its state file, in order (the last is what a successor would find). */
  readonly kept: SlotCounters[] = [];

  keep(counters: SlotCounters): void {
    this.kept.push(counters);
  }

  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<boolean> {
    this.stopCalls++;
    this.kill(signal);
    this.exit(143);
    return this.ended.then(() => false);
  }
}

/** What the next spawn does: give an instance, fail with a LaunchFailure, or wait until the test lets it go on. */
type Step = { kind: 'instance' } | { kind: 'fail'; failure: LaunchFailure } | { kind: 'wait'; gate: Promise<void> };

export class FakeRuntime implements ServiceRuntime {
  readonly clock = new FakeClock();
  readonly instances: FakeInstance[] = [];
  readonly listens: { closed: boolean }[] = [];
  private readonly script: Step[] = [];
  private pids = 1000;

  /** Queues what the next spawns do; once the queue is empty every spawn gives an instance. */
  then(...steps: Step[]): this {
    this.script.push(...steps);
    return this;
  }

  async spawn(_settings: ServiceConfig, opts: InstanceOptions): Promise<InstanceHandle> {
    const step = this.script.shift() ?? { kind: 'instance' };
    if (step.kind === 'fail') throw step.failure;
    if (step.kind === 'wait') await step.gate;
    const inst = new FakeInstance((this.pids += 10), this.clock, opts);
    this.instances.push(inst);
    return inst;
  }

  async openListen(): Promise<ListenHold> {
    const hold = { closed: false, fds: [3], env: () => ({ LISTEN_FDS: '1' }), close: () => void (hold.closed = true) };
    this.listens.push(hold);
    return hold;
  }

  get last(): FakeInstance {
    return this.instances[this.instances.length - 1];
  }
}

/** A service's settings as the configuration would give them, defaults filled. */
export function settingsOf(service: Record<string, unknown>): ServiceConfig {
  return validateConfig({ supervisor: { control: '/tmp/nsvisor-unit/c.sock' }, services: { svc: { command: ['/bin/true'], ...service } } }).services.svc;
}
