// What the metrics need of a supervisor and its services: the real Supervisor fits, and so does a fake in unit tests.
import type { EventEmitter } from 'eventemitter3';

import type { StatsTarget } from '../cgroup/driver';
import type { Limits } from '../cgroup/limits';
import type { CgroupStats } from '../cgroup/stats';
import type { LinkCounters } from '../net/links';
import type { ServiceState } from '../service/states';
import type { SupervisorEvents } from '../supervisor';

export interface MeteredService {
  readonly name: string;
  readonly settings: { restart: { policy: string }; isolate?: readonly string[]; resources: Limits; health?: object };
  readonly state: ServiceState;
  /** Host pid of the current instance (its nsvisor-init), while one runs; its network namespace has the interface counters. */
  readonly pid?: number | null;
  /** The current instance's cgroup; any object identifies the instance, statsTarget says what to read. */
  readonly cgroup: { readonly statsTarget: StatsTarget } | null;
}

export interface MeteredSupervisor extends Pick<EventEmitter<SupervisorEvents>, 'on' | 'off'> {
  readonly services: ReadonlyMap<string, MeteredService>;
}

/** Reads the stats of each target, in order (the piscina pool in production). */
export type StatsSource = (targets: StatsTarget[]) => Promise<CgroupStats[]>;

/** Byte counters of each interface but lo in the network namespace of pid; empty when it is gone (the netlink pool in production). */
export type LinkSource = (pid: number) => Promise<LinkCounters[]>;
