// What the metrics need of a supervisor and its services: the real Supervisor fits, and so does a fake in unit tests.
import type { EventEmitter } from 'eventemitter3';

import type { StatsTarget } from '../cgroup/driver';
import type { Limits } from '../cgroup/limits';
import type { CgroupStats } from '../cgroup/stats';
import type { LinkCounters } from '../net/links';
import type { ServiceState } from '../service/states';
import type { SupervisorEvents } from '../supervisor';

/** One instance position of a service (the only one, or one of `instances`). */
export interface MeteredUnit {
  /** Its name: the service's, or NAME.K. */
  readonly key: string;
  /** The cgroup of the instance serving there; any object identifies the instance, statsTarget says what to read. */
  readonly cgroup: { readonly statsTarget: StatsTarget } | null;
  /** Host pid of that instance's nsvisor-init, while one runs; its network namespace has the interface counters. */
  readonly pid: number | null;
}

export interface MeteredService {
  readonly name: string;
  readonly settings: { restart: { policy: string }; isolate?: readonly string[]; resources: Limits; health?: object; instances?: number };
  readonly state: ServiceState;
  /** Its instance positions: the series of the service sum theirs. */
  readonly units: readonly MeteredUnit[];
  /** How many of its instances run and are ready now. */
  readonly running: number;
}

export interface MeteredSupervisor extends Pick<EventEmitter<SupervisorEvents>, 'on' | 'off'> {
  readonly services: ReadonlyMap<string, MeteredService>;
}

/** Reads the stats of each target, in order (the piscina pool in production). */
export type StatsSource = (targets: StatsTarget[]) => Promise<CgroupStats[]>;

/** Byte counters of each interface but lo in the network namespace of pid; empty when it is gone (the netlink pool in production). */
export type LinkSource = (pid: number) => Promise<LinkCounters[]>;
