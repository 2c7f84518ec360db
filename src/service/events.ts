// The events of a service and of each of its instance positions (slots): what metrics, the output and the tests listen to.

import type { CgroupHandle, CgroupStats } from '../cgroup';
import type { ExitCounts, ExitRecord } from '../launch/exit-reason';
import type { LaunchFailure } from '../launch/failure';
import type { PeekInput } from '../logs/peek-input';
import type { ServiceState } from './states';

/** An ended instance's cgroup (its identity for the metrics) and the figures it last had. */
export interface FinalFigures {
  cgroup: CgroupHandle;
  stats: CgroupStats;
}

/** What the taking over of an instance tells. */
export interface AdoptedInstance {
  /** Its nsvisor-init. */
  pid: number;
  /** How long no supervisor held it. */
  orphanedMs: number;
  /** Lines of its output nsvisor-init dropped meanwhile (its buffer was full). */
  dropped: number;
  /** The slot's counters as the supervisor that died left them: the metrics go on from them. */
  starts: number;
  restarts: number;
  reaped: number;
  exits: ExitCounts;
}

/** A slot's events, named by the slot ("web", or "web.2" of a service with instances). */
export interface SlotEvents {
  state: (name: string, state: ServiceState, previous: ServiceState) => void;
  /** An instance is being started: `automatic` for a restart after an exit (systemd's NRestarts), not for one asked for. */
  attempt: (name: string, automatic: boolean) => void;
  /**
   * `aside` is true for an instance that was not serving: one retired by a zero-downtime restart, or its failed
   * replacement. `final`: the instance's cgroup and its figures read just before it was removed (null without one).
   */
  exit: (name: string, exit: ExitRecord, aside: boolean, final: FinalFigures | null) => void;
  /** A start that did not reach the command. */
  startFailed: (name: string, failure: LaunchFailure) => void;
  /** The ready check did not pass; the instance is killed and the attempt counts as failed. */
  notReady: (name: string, why: string) => void;
  /** Backing off: the next start in `delay` ms. */
  backoff: (name: string, delay: number) => void;
  /** One health check's outcome (a watchdog ping counts as one that passed). */
  health: (name: string, ok: boolean) => void;
  /** The serving instance failed its health check: it is being replaced. */
  unhealthy: (name: string, why: string) => void;
  /** Something went wrong that ended nothing: a step of an instance's teardown, a bad status record. */
  trouble: (name: string, failure: LaunchFailure) => void;
  spawned: (name: string, seconds: number) => void;
  ready: (name: string, seconds: number) => void;
  stopped: (name: string, seconds: number, killed: boolean) => void;
  /** nsvisor-init reaped `count` orphans (processes of the service whose parent had ended), reported in batches. */
  reaped: (name: string, count: number) => void;
  output: (name: string, input: PeekInput, source: 'stdout' | 'stderr') => void;
  /** An instance a supervisor that died left running was taken over (same pids), with the counters it had. */
  adopted: (name: string, taken: AdoptedInstance) => void;
}

/** How `restart` went about it: a new instance beside the old one, or stop then start. */
export type RestartMode = 'zero-downtime' | 'stop-start';


/** A service's events: a slot's, named by the service, with the slot's name last (its state is the service's own, summed over the slots). */
export type ServiceEvents = { [E in keyof SlotEvents]: (...args: [...Parameters<SlotEvents[E]>, instance: string]) => void };
