// Resource metrics read at scrape time through a stats source, one collection shared by the scrapes of about a second.
import { CounterCarry } from '../cgroup/counter-carry';
import type { CgroupStats } from '../cgroup/stats';
import type { LinkCounters } from '../net/links';
import type { ExitRecord } from '../service/exit-reason';
import type { MetricSet } from './definitions';
import { specOf } from './labels';
import { removeSeriesOf } from './series';
import type { LinkSource, MeteredService, StatsSource } from './subject';

/** Keys of the interface counters in Tracker.links. */
const RX = 'rx:';
const TX = 'tx:';

/** One service's counting across its instances (each a fresh cgroup whose counters start at 0). */
class Tracker {
  readonly carry = new CounterCarry();
  /** Interface byte counters, keyed "rx:eth0" and "tx:eth0": an interface keeps its series after its instance ended. */
  readonly links = new CounterCarry();
  /** The cgroup whose figures `carry` holds as its current ones. */
  instance: object | null = null;
  oomSeen = false;
  /** The cgroup a collection in flight last read: if that instance ends first, its figures must not be applied. */
  captured: object | null = null;
  readonly ended = new WeakSet<object>();

  /** Figures of `instance`; ignored when that instance has ended meanwhile (they are carried already). */
  apply(instance: object, stats: CgroupStats, links: LinkCounters[]): CgroupStats | null {
    if (this.ended.has(instance)) return null;
    if (instance !== this.instance) {
      this.carry.restarted();
      this.links.restarted();
      this.instance = instance;
      this.oomSeen = false;
    }
    if ((stats.oomKills ?? 0) > 0) this.oomSeen = true;
    for (const l of links) {
      this.links.reading(RX + l.interface, l.rxBytes);
      this.links.reading(TX + l.interface, l.txBytes);
    }
    return this.carry.apply(stats);
  }

  /** The instance ended and its cgroup is gone: keep its counts; an OOM kill its stats never showed still counts. */
  exited(exit: ExitRecord): void {
    for (const i of [this.instance, this.captured]) if (i) this.ended.add(i);
    if (exit.reason === 'oom_killed' && !this.oomSeen) this.carry.add('oomKills', 1);
    this.carry.restarted();
    this.links.restarted();
    this.instance = null;
    this.oomSeen = false;
  }
}

/** What the last collection read of each service: the instance (its cgroup) and its figures, counters carried. */
type Latest = Map<string, { instance: object; stats: CgroupStats }>;

interface Snapshot {
  /** When the collection completed; null while it runs. */
  at: number | null;
  done: Promise<void>;
}

export class ResourceCollector {
  private readonly trackers = new Map<string, Tracker>();
  private snapshot: Snapshot | null = null;
  private latest: Latest = new Map();
  /** Services whose series are out of date with their trackers. */
  private readonly dirty = new Set<string>();
  /** While above 0 (a render in progress), the current collection serves, whatever its age. */
  pinned = 0;

  constructor(
    private readonly metrics: MetricSet,
    private readonly services: () => Iterable<MeteredService>,
    private readonly sources: { stats: StatsSource; links: LinkSource },
    private readonly maxAgeMs = 1000,
    private readonly now = () => performance.now(),
  ) {}

  tracker(name: string): Tracker {
    let t = this.trackers.get(name);
    if (!t) this.trackers.set(name, (t = new Tracker()));
    return t;
  }

  forget(name: string): void {
    this.trackers.delete(name);
  }

  /**
   * Resolves once the resource metrics hold fresh figures. A collection serves every scrape that asks while it
   * runs and for maxAgeMs after it completed: concurrent scrapes share one.
   */
  refresh(): Promise<void> {
    const s = this.snapshot;
    if (s && (s.at === null || this.pinned > 0 || this.now() - s.at < this.maxAgeMs)) return s.done;
    const snap: Snapshot = { at: null, done: Promise.resolve() };
    snap.done = this.collect().then(
      () => void (snap.at = this.now()),
      (e) => {
        if (this.snapshot === snap) this.snapshot = null; // a failed collection is not kept
        throw e;
      },
    );
    this.snapshot = snap;
    return snap.done;
  }

  private async collect(): Promise<void> {
    const end = this.metrics.collectDuration.startTimer();
    const measured = [...this.services()].filter((s) => s.cgroup !== null).map((s) => ({ name: s.name, cgroup: s.cgroup!, pid: netPid(s) }));
    for (const m of measured) this.tracker(m.name).captured = m.cgroup;
    const [stats, links] = await Promise.all([
      measured.length ? this.sources.stats(measured.map((m) => m.cgroup.statsTarget)) : [],
      Promise.all(measured.map((m) => (m.pid === null ? [] : this.sources.links(m.pid)))),
    ]);
    const latest: Latest = new Map();
    measured.forEach((m, i) => {
      const carried = this.tracker(m.name).apply(m.cgroup, stats[i], links[i]);
      if (carried) latest.set(m.name, { instance: m.cgroup, stats: carried });
    });
    this.latest = latest;
    this.writeAll();
    end();
  }

  /** Marks a service whose series must be rewritten at the next render (an instance of it ended). */
  changed(name: string): void {
    this.dirty.add(name);
  }

  /**
   * Rewrites the series of the services changed since the last write: counters from what is carried (live, so
   * they agree with the exit series), usage and kernel limits only while the collected instance still runs.
   */
  write(): void {
    const r = Object.values(this.metrics.resources);
    if (this.dirty.size === 0) return;
    for (const s of this.services()) {
      if (!this.dirty.has(s.name)) continue;
      for (const metric of r) removeSeriesOf(metric, s.name);
      this.writeService(s);
    }
    this.dirty.clear();
  }

  /** Replaces every resource series with the figures of the services there are now. */
  private writeAll(): void {
    for (const metric of Object.values(this.metrics.resources)) metric.reset();
    for (const s of this.services()) this.writeService(s);
    this.dirty.clear();
  }

  private writeService(s: MeteredService): void {
    const r = this.metrics.resources;
    const l = this.latest.get(s.name);
    const now = l && l.instance === s.cgroup ? l.stats : null;
    const put = (metric: { set?: unknown; inc?: unknown }, name: string, v: number | null | undefined) => {
      if (v === null || v === undefined || !Number.isFinite(v)) return;
      if ('set' in metric && typeof metric.set === 'function') metric.set({ name }, v);
      else if (typeof metric.inc === 'function') metric.inc({ name }, Math.max(0, v));
    };
    const name = s.name;
    const tracker = this.tracker(name);
    const totals = tracker.carry.totals();
    const spec = specOf(s.settings.resources);
    // Counters: carried across instances, and kept while no instance runs.
    put(r.cpuUsage, name, totals.cpuUsageSeconds ?? 0);
    put(r.cpuUser, name, totals.cpuUserSeconds ?? 0);
    put(r.cpuSystem, name, totals.cpuSystemSeconds ?? 0);
    put(r.cpuThrottled, name, totals.cpuThrottledSeconds ?? 0);
    put(r.oomKills, name, totals.oomKills ?? 0);
    put(r.pressureCpu, name, totals.pressureCpuSeconds);
    put(r.pressureMemory, name, totals.pressureMemorySeconds);
    put(r.pressureIo, name, totals.pressureIoSeconds);
    for (const key of tracker.links.keys()) {
      const metric = key.startsWith(RX) ? r.networkReceive : r.networkTransmit;
      metric.inc({ name, interface: key.slice(RX.length) }, tracker.links.total(key) ?? 0);
    }
    // Limits: the kernel's while an instance runs, else the configuration's.
    put(r.cpuQuota, name, now ? now.cpuQuotaSeconds : spec.cpuQuotaSeconds);
    put(r.cpuPeriod, name, now?.cpuPeriodSeconds ?? spec.cpuPeriodSeconds);
    put(r.memoryLimit, name, now?.memoryLimitBytes ?? spec.memoryLimitBytes);
    put(r.tasksLimit, name, now?.tasksLimit ?? spec.tasksLimit);
    // Usage gauges: only while an instance runs.
    if (!now) return;
    put(r.memoryUsage, name, now.memoryUsageBytes);
    put(r.memoryWorkingSet, name, now.memoryWorkingSetBytes);
    put(r.memoryRss, name, now.memoryRssBytes);
    put(r.tasks, name, now.tasks);
  }
}

/** The pid whose network namespace holds the service's own interfaces: only when net is isolated and an instance runs. */
function netPid(s: MeteredService): number | null {
  return s.pid && (s.settings.isolate ?? []).includes('net') ? s.pid : null;
}
