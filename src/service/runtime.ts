// What a Service needs from the world: instances, listen sockets and a clock; real ones in production, fakes in unit tests.

import type { CgroupHandle } from '../cgroup';
import type { ListenAddress } from '../config/addresses';
import type { ServiceConfig } from '../config/schema';
import type { LaunchEnd } from '../launch/launch';
import type { ExitCounts, ExitRecord } from '../launch/exit-reason';
import type { LaunchFailure } from '../launch/failure';
import type { PeekInput } from '../logs/peek-input';

/** How an instance ended, once everything it held is released. */
export type InstanceEnd = LaunchEnd;

/** One running instance of a service, as the Service sees it. */
export interface InstanceHandle {
  readonly startedAt: Date;
  /** Host pid of the instance's nsvisor-init. */
  readonly pid: number;
  /** Host pid of the service's main process, when known. */
  readonly mainPid: number | null;
  readonly cgroup: CgroupHandle | null;
  /** Settles once the instance has exited and released what it held; never rejects. */
  readonly ended: Promise<InstanceEnd>;
  /** Resolves when the ready check passes; rejects (with what it waited for) when it times out or the instance ends first. */
  waitReady(): Promise<void>;
  /** Runs the health probe of its settings once (bounded by health.timeout); true when it passed. */
  probeHealth(): Promise<boolean>;
  /** Sends a signal through nsvisor-init; false once it is gone. */
  kill(signal: NodeJS.Signals): boolean;
  /**
   * `signal` (stop.signal by default), then SIGKILL after the timeout; resolves with whether it had to be killed,
   * once released. Never rejects; a second call joins the first.
   */
  stop(signal?: NodeJS.Signals): Promise<boolean>;
  /** Takes the in-place keys of a new definition: the cgroup's limits from prev's to next's, stop and ready settings. */
  retune(prev: ServiceConfig, next: ServiceConfig): Promise<void>;
  /** Records the slot's counters where a successor that adopts the instance finds them (when it can be adopted). */
  keep?(counters: SlotCounters): void;
  /** Why a successor could not adopt it as it runs now (its settings allowing adoption), or null. */
  adoptionBlocker?(): string | null;
  /** Set when it was taken over from a supervisor that died. */
  readonly adoption?: { at: Date; orphanedMs: number; dropped: [number, number] } | null;
}

/** The lifecycle counters of a slot that cgroups do not keep: they continue across an adoption. */
export interface SlotCounters {
  starts: number;
  restarts: number;
  reaped: number;
  lastExit: ExitRecord | null;
  /** Instances ended, by reason. */
  exits: ExitCounts;
}

/** The sockets of `listen` a service holds across its instances. */
export interface ListenHold {
  readonly fds: number[];
  env(): Record<string, string>;
  close(): void;
}

/** What a new instance needs beyond the service's settings. */
export interface InstanceOptions {
  /** Names its cgroup and notify socket: the service's name, or NAME.N beside another instance still alive. */
  instanceName: string;
  /** The index of its slot (a successor that adopts it puts it back there). */
  slot?: number;
  /** Sockets held by the supervisor, passed as fds 3.. */
  listen: ListenHold | null;
  /** Variables laid over the service's environment (NSVISOR_INSTANCE). */
  env: Record<string, string>;
  onStatusText(text: string): void;
  /** A pipe of the instance, read by peeking (logs/peek-input.ts); whoever takes it reads it to its end. */
  onOutput(input: PeekInput, source: 'stdout' | 'stderr'): void;
  /** nsvisor-init reaped this many orphans (reported in batches). */
  onReaped(count: number): void;
  /** WATCHDOG=1 from the instance (health.watchdog). */
  onWatchdog(): void;
  /** Something went wrong that did not end the instance (a bad status record, a step of its teardown). */
  onTrouble(failure: LaunchFailure): void;
}

/** Timers the state machine uses (backoff); a fake one lets unit tests move time by hand. */
export interface Clock {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(timer: unknown): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (t) => clearTimeout(t as NodeJS.Timeout),
};

export interface ServiceRuntime {
  /** Launches one instance with these settings; rejects with a LaunchFailure only. */
  spawn(settings: ServiceConfig, opts: InstanceOptions): Promise<InstanceHandle>;
  /** Makes the sockets of `listen`; rejects with a LaunchFailure only. */
  openListen(service: string, addresses: ListenAddress[]): Promise<ListenHold>;
  clock: Clock;
}
