// Resource metrics read at scrape time through a stats source, one collection shared by the scrapes of about a second.
import type { CgroupStats, CollectedStats } from '../cgroup/stats';
import type { LinkCounters } from '../net/links';
import type { MetricSet } from './definitions';
import { HeldFiles } from './held-files';
import { specOf } from './labels';
import { removeSeriesOf } from './series';
import type { LinkSource, MeteredService, StatsSource } from './subject';
import { RX, Tracker } from './tracker';

/** Services written per event loop turn after a collection. */
const WRITE_BATCH = 250;

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
  /** The per-collection stats files of the running instances, held open. */
  readonly held = new HeldFiles();

  constructor(
    private readonly metrics: MetricSet,
    private readonly services: () => Iterable<MeteredService>,
    private readonly sources: { stats: StatsSource; links: LinkSource },
    private readonly maxAgeMs = 1000,
    private readonly now = () => performance.now(),
  ) {}

  tracker(name: string): Tracker {
    let t = this.trackers.get(name);
    if (!t) this.trackers.set(name, (t = new Tracker(name)));
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
    const t0 = this.now();
    const measured = [...this.services()]
      .filter((s) => s.cgroup !== null)
      .map((s) => ({ name: s.name, cgroup: s.cgroup!, pid: netPid(s), tracker: this.tracker(s.name), skipLimits: false }));
    for (const m of measured) {
      m.tracker.captured = m.cgroup;
      m.skipLimits = m.tracker.knowsLimits(m.cgroup, t0);
    }
    this.held.begin();
    let stats: CgroupStats[];
    let links: LinkCounters[][];
    try {
      const targets = measured.map((m) => this.held.target(m.cgroup, { ...m.cgroup.statsTarget, ...(m.skipLimits ? { skipLimits: true } : {}) }));
      try {
        [stats, links] = await Promise.all([
          measured.length ? this.sources.stats(targets) : [],
          Promise.all(measured.map((m) => (m.pid === null ? [] : this.sources.links(m.pid)))),
        ]);
      } catch (e) {
        targets.forEach((t, i) => t.hold && this.held.adopt(measured[i].cgroup, undefined)); // asked again next time
        throw e;
      }
      stats = stats.map((collected: CollectedStats, i) => {
        const { fds, ...figures } = collected;
        if (targets[i].hold) this.held.adopt(measured[i].cgroup, fds);
        return figures;
      });
    } finally {
      this.held.end(new Set([...this.services()].map((s) => s.cgroup).filter((c) => c !== null)));
    }
    const latest: Latest = new Map();
    measured.forEach((m, i) => {
      const carried = m.tracker.apply(m.cgroup, m.tracker.limited(m.cgroup, stats[i], m.skipLimits, t0), links[i]);
      if (carried) latest.set(m.name, { instance: m.cgroup, stats: carried });
    });
    this.latest = latest;
    await this.writeAll();
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

  /** Replaces every resource series with the figures of the services there are now, a few hundred services per event loop turn. */
  private async writeAll(): Promise<void> {
    // An exit between two turns marks its service again: write() brings it up to date before the render.
    this.dirty.clear();
    for (const metric of Object.values(this.metrics.resources)) metric.reset();
    let current = new Set(this.services());
    let n = 0;
    for (const s of [...current]) {
      if (++n % WRITE_BATCH === 0) {
        await new Promise((r) => setImmediate(r));
        current = new Set(this.services()); // a service removed meanwhile gets no series back
      }
      if (current.has(s)) this.writeService(s);
    }
  }

  private writeService(s: MeteredService): void {
    const r = this.metrics.resources;
    const l = this.latest.get(s.name);
    const now = l && l.instance === s.cgroup ? l.stats : null;
    const tracker = this.tracker(s.name);
    const labels = tracker.labels;
    const put = (metric: { set?: unknown; inc?: unknown }, v: number | null | undefined) => {
      if (v === null || v === undefined || !Number.isFinite(v)) return;
      if ('set' in metric && typeof metric.set === 'function') metric.set(labels, v);
      else if (typeof metric.inc === 'function') metric.inc(labels, Math.max(0, v));
    };
    const name = s.name;
    const totals = tracker.carry.totals();
    const spec = specOf(s.settings.resources);
    // Counters: carried across instances, and kept while no instance runs.
    put(r.cpuUsage, totals.cpuUsageSeconds ?? 0);
    put(r.cpuUser, totals.cpuUserSeconds ?? 0);
    put(r.cpuSystem, totals.cpuSystemSeconds ?? 0);
    put(r.cpuThrottled, totals.cpuThrottledSeconds ?? 0);
    put(r.oomKills, totals.oomKills ?? 0);
    put(r.pressureCpu, totals.pressureCpuSeconds);
    put(r.pressureMemory, totals.pressureMemorySeconds);
    put(r.pressureIo, totals.pressureIoSeconds);
    for (const key of tracker.links.keys()) {
      const metric = key.startsWith(RX) ? r.networkReceive : r.networkTransmit;
      let l = tracker.linkLabels.get(key);
      if (!l) tracker.linkLabels.set(key, (l = Object.freeze({ name, interface: key.slice(RX.length) })));
      metric.inc(l, tracker.links.total(key) ?? 0);
    }
    // Limits: the kernel's while an instance runs, else the configuration's.
    put(r.cpuQuota, now ? now.cpuQuotaSeconds : spec.cpuQuotaSeconds);
    put(r.cpuPeriod, now?.cpuPeriodSeconds ?? spec.cpuPeriodSeconds);
    put(r.memoryLimit, now?.memoryLimitBytes ?? spec.memoryLimitBytes);
    put(r.tasksLimit, now?.tasksLimit ?? spec.tasksLimit);
    // Usage gauges: only while an instance runs.
    if (!now) return;
    put(r.memoryUsage, now.memoryUsageBytes);
    put(r.memoryWorkingSet, now.memoryWorkingSetBytes);
    put(r.memoryRss, now.memoryRssBytes);
    put(r.tasks, now.tasks);
  }
}

/** The pid whose network namespace holds the service's own interfaces: only when net is isolated and an instance runs. */
function netPid(s: MeteredService): number | null {
  return s.pid && (s.settings.isolate ?? []).includes('net') ? s.pid : null;
}
