// A fake supervisor and stats source for the metrics unit tests: services are plain objects, events are emitted by hand.
import { EventEmitter } from 'eventemitter3';

import type { StatsTarget } from '../../src/cgroup/driver';
import type { CgroupStats } from '../../src/cgroup/stats';
import type { MeteredService, MeteredSupervisor } from '../../src/metrics';
import type { ServiceState } from '../../src/service/states';
import type { SupervisorEvents } from '../../src/supervisor';

export interface FakeService {
  name: string;
  settings: { restart: { policy: string }; isolate?: string[]; resources: { memory?: number; cpus?: number; pids?: number } };
  state: ServiceState;
  cgroup: { statsTarget: StatsTarget } | null;
  pid: number | null;
}

export class FakeSupervisor extends EventEmitter<SupervisorEvents> implements MeteredSupervisor {
  readonly services = new Map<string, MeteredService & FakeService>();
  private readonly started = new Set<string>();

  add(name: string, settings: Partial<FakeService['settings']> = {}): FakeService {
    const s: FakeService & MeteredService = {
      name,
      settings: { restart: { policy: 'on-failure' }, resources: {}, ...settings },
      state: 'stopped',
      cgroup: null,
      pid: null,
      // One position, named for the service, serving the instance run() gave it.
      get units() {
        return [{ key: name, cgroup: s.cgroup, pid: s.pid }];
      },
      get running() {
        return s.state === 'running' ? 1 : 0;
      },
    };
    this.services.set(name, s);
    return s;
  }

  /**
   * A new instance: a fresh cgroup (its dir names the instance), "starting", spawned (as `pid`), running. Every
   * start after the first is an automatic restart unless `automatic` says otherwise.
   */
  run(name: string, instance: string, pid = 100, automatic?: boolean): void {
    const s = this.services.get(name)!;
    this.setState(name, 'starting');
    this.emit('attempt', name, automatic ?? this.started.has(name), name);
    this.started.add(name);
    s.cgroup = { statsTarget: { kind: 'v2', dirs: { v2: instance } } };
    s.pid = pid;
    this.emit('spawned', name, 0.004, name);
    this.emit('ready', name, 0.02, name);
    this.setState(name, 'running');
  }

  /**
   * The instance ends the way it does in Service: cgroup released, then the exit record, with the cgroup's
   * `final` figures when given. `aside`: an instance that was not serving (the current one goes on).
   */
  end(name: string, reason: 'error' | 'oom_killed' | 'completed' | 'signaled', next: ServiceState = 'backoff', final?: CgroupStats, aside?: object): void {
    const s = this.services.get(name)!;
    const cgroup = aside ?? s.cgroup;
    if (!aside) {
      s.cgroup = null;
      s.pid = null;
    }
    const code = reason === 'error' ? 3 : reason === 'completed' ? 0 : null;
    const signal = reason === 'signaled' || reason === 'oom_killed' ? 'SIGKILL' : null;
    this.emit('exit', name, { code, signal, reason, at: new Date(1_700_000_000_000) }, !!aside, final && cgroup ? { cgroup: cgroup as never, stats: final } : null, name);
    if (aside) return;
    this.setState(name, next);
  }

  setState(name: string, state: ServiceState): void {
    const s = this.services.get(name)!;
    const prev = s.state;
    s.state = state;
    this.emit('state', name, state, prev, name);
  }
}

export function stats(over: Partial<CgroupStats> = {}): CgroupStats {
  return {
    cpuUsageSeconds: null, cpuUserSeconds: null, cpuSystemSeconds: null, cpuThrottledSeconds: null,
    cpuQuotaSeconds: null, cpuPeriodSeconds: null, memoryUsageBytes: null, memoryWorkingSetBytes: null,
    memoryRssBytes: null, memoryLimitBytes: null, oomKills: null, tasks: null, tasksLimit: null,
    pressureCpuSeconds: null, pressureMemorySeconds: null, pressureIoSeconds: null,
    ...over,
  };
}

/** A stats source answering from a table keyed by the target's directory, counting its calls. */
export function fakeSource(table: Map<string, CgroupStats>) {
  const source = async (targets: StatsTarget[]) => {
    source.calls++;
    await new Promise((r) => setTimeout(r, 5));
    return targets.map((t) => table.get(t.dirs.v2) ?? stats());
  };
  source.calls = 0;
  return source;
}

/** Parses the text format into "name{labels}" -> value. */
export function parseText(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}
