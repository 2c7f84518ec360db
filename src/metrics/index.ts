// The supervisor's own Prometheus registry: every series of SPEC 5 plus the default Node metrics (event-loop lag sampled on demand).
import { Registry } from 'prom-client';

import { cgroupPool } from '../cgroup/cgroup-pool';
import { countersOnPool } from '../net/pool';
import type { SupervisorEvents } from '../supervisor';
import { defineMetrics, MetricSet, RELOAD_RESULTS } from './definitions';
import { Exposition, Rendered } from './exposition';
import * as lifecycle from './lifecycle';
import { registerNodeMetrics } from './node-defaults';
import { ResourceCollector } from './resources';
import { removeSeriesOf } from './series';
import type { LinkSource, MeteredSupervisor, StatsSource } from './subject';

export type { LinkSource, MeteredService, MeteredSupervisor, StatsSource } from './subject';
export { startMetricsServer, wantsOpenMetrics } from './server';
export type { MetricsServer } from './server';

export type { Rendered } from './exposition';

export interface MetricsOptions {
  /** Where resource figures come from; default the process-wide stats pool. */
  stats?: StatsSource;
  /** Where a service's interface counters come from; default the netlink pool. */
  links?: LinkSource;
  /** How long one collection serves scrapes; default 1000 ms. */
  maxAgeMs?: number;
  /** prom-client's default process and Node metrics; default true. */
  defaultMetrics?: boolean;
}

export class SupervisorMetrics {
  readonly registry = new Registry();
  readonly metrics: MetricSet;
  private readonly resources: ResourceCollector;
  private readonly exposition: Exposition;
  private rendering: Promise<unknown> = Promise.resolve();
  private readonly listeners: { [E in keyof SupervisorEvents]?: SupervisorEvents[E] };
  private readonly node: { stop(): void } | null;

  constructor(private readonly supervisor: MeteredSupervisor, opts: MetricsOptions = {}) {
    const stats = opts.stats ?? ((targets) => cgroupPool().collect(targets));
    this.metrics = defineMetrics([this.registry]);
    const links = opts.links ?? countersOnPool;
    this.resources = new ResourceCollector(this.metrics, () => supervisor.services.values(), { stats, links }, opts.maxAgeMs);
    const refresh = () => this.resources.refresh();
    for (const metric of [...Object.values(this.metrics.resources), this.metrics.collectDuration]) {
      (metric as { collect?: () => Promise<void> }).collect = refresh;
    }
    this.node = (opts.defaultMetrics ?? true) ? registerNodeMetrics(this.registry) : null;
    const collectedMetrics = new Set<object>([...Object.values(this.metrics.resources), this.metrics.collectDuration]);
    this.exposition = new Exposition(this.registry, collectedMetrics, Object.values(this.metrics.lifecycle));
    for (const s of supervisor.services.values()) lifecycle.addService(this.metrics.lifecycle, s);
    for (const result of RELOAD_RESULTS) this.metrics.supervisor.reloads.inc({ result }, 0);
    this.metrics.supervisor.adopted.inc(0);

    const m = this.metrics.lifecycle;
    this.listeners = {
      state: (name, state) => {
        lifecycle.setState(m, name, state);
        this.instancesOf(name);
      },
      attempt: (name, automatic) => lifecycle.onAttempt(m, name, automatic),
      exit: (name, exit, aside, final, instance) => {
        lifecycle.onExit(m, name, exit);
        const tracker = this.resources.tracker(name, instance);
        const oomCounted = final ? tracker.settle(final.cgroup, final.stats) : false;
        // An instance aside (a zero-downtime restart's old or failed new one) adds its figures; the serving one's go on.
        if (!aside) tracker.exited(exit, oomCounted);
        this.resources.changed(name);
        this.instancesOf(name);
      },
      spawned: (name, seconds) => lifecycle.onSpawned(m, name, seconds),
      adopted: (name, taken) => {
        this.metrics.supervisor.adopted.inc();
        lifecycle.onAdopted(m, name, taken);
      },
      ready: (name, seconds) => {
        m.readyDuration.observe({ name }, seconds);
        this.instancesOf(name);
      },
      stopped: (name, seconds, killed) => lifecycle.onStopped(m, name, seconds, killed),
      reaped: (name, count) => m.reaped.inc({ name }, count),
      health: (name, ok) => m.healthChecks.inc({ name, result: ok ? 'ok' : 'failed' }),
      removed: (name) => this.forget(name),
      added: (name) => lifecycle.addService(m, supervisor.services.get(name)!),
      // The info series carries the restart policy and the namespaces: a new definition may change either.
      redefined: (name) => {
        removeSeriesOf(m.info, name);
        lifecycle.addService(m, supervisor.services.get(name)!);
      },
    };
    for (const [event, fn] of Object.entries(this.listeners)) supervisor.on(event as keyof SupervisorEvents, fn as never);
  }

  /**
   * The text exposition (Prometheus 0.0.4, or OpenMetrics 1.0.0 when asked). The metrics that do not come from
   * the collection (lifecycle, Node's) are written while the pool collects (or the cache serves) the resource
   * figures, those after it; each metric in its own turn of the event loop, so that a scrape of thousands of
   * series never blocks it for long (see Exposition). Renders take turns: OpenMetrics renames counters.
   */
  render(openMetrics = false): Promise<Rendered> {
    const turn = this.rendering.then(() => this.renderNow(openMetrics));
    this.rendering = turn.catch(() => undefined);
    return turn;
  }

  private renderNow(openMetrics: boolean): Promise<Rendered> {
    const collected = this.resources.refresh();
    collected.catch(() => undefined); // awaited by the exposition; a failure must not count as unhandled meanwhile
    this.resources.pinned++;
    // write(): a cached collection, brought up to date with the exits since.
    return this.exposition.render(openMetrics, collected, () => this.resources.write()).finally(() => this.resources.pinned--);
  }

  /** The instance gauges of a service anew (one got ready, one ended, it was scaled). */
  private instancesOf(name: string): void {
    const s = this.supervisor.services.get(name);
    if (s) lifecycle.countInstances(this.metrics.lifecycle, s);
  }

  /** Counts a reload by its outcome. */
  countReload(result: (typeof RELOAD_RESULTS)[number]): void {
    this.metrics.supervisor.reloads.inc({ result });
  }

  /** Removes every series of a service that is gone. */
  forget(name: string): void {
    for (const metric of [...Object.values(this.metrics.lifecycle), ...Object.values(this.metrics.resources)]) removeSeriesOf(metric, name);
    this.resources.forget(name);
  }

  /** Stops listening to the supervisor, closes the stats files it holds open, ends the loop sampling. */
  close(): void {
    this.node?.stop();
    this.resources.held.closeAll();
    for (const [event, fn] of Object.entries(this.listeners)) this.supervisor.off(event as keyof SupervisorEvents, fn as never);
  }
}
