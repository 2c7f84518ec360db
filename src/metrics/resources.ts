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

/** What the last collection read of each instance position (by its key): the instance (its cgroup) and its figures, counters carried. */
type Latest = Map<string, { instance: object; stats: CgroupStats }>;

/** One service's counting: a tracker per instance position it has had, and the label sets of its series. */
class ServiceCount {
  /** The label set of every series of the service, one object: prom-client keeps it, the writer caches its text. */
  readonly labels: { readonly name: string };
  /** The same for each interface key ("rx:eth0"). */
  readonly linkLabels = new Map<string, { readonly name: string; readonly interface: string }>();
  /** By position key; kept after a position goes (scaled down): its counts stay in the service's. */
  readonly units = new Map<string, Tracker>();

  constructor(name: string) {
    this.labels = Object.freeze({ name });
  }

  unit(key: string): Tracker {
    let t = this.units.get(key);
    if (!t) this.units.set(key, (t = new Tracker()));
    return t;
  }
}

/** The sum of figures that are all known; null when any is unknown (or there are none). */
function sumKnown(values: (number | null)[]): number | null {
  if (!values.length || values.some((v) => v === null)) return null;
  return (values as number[]).reduce((a, b) => a + b, 0);
}

/** A sum of limits where 0 means none: any unlimited instance makes the service's limit none too. */
function sumLimits(values: (number | null)[]): number | null {
  const sum = sumKnown(values);
  return sum === null || values.includes(0) ? (values.includes(0) ? 0 : sum) : sum;
}

interface Snapshot {
  /** When the collection completed; null while it runs. */
  at: number | null;
  done: Promise<void>;
}

export class ResourceCollector {
  private readonly counts = new Map<string, ServiceCount>();
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

  private count(name: string): ServiceCount {
    let c = this.counts.get(name);
    if (!c) this.counts.set(name, (c = new ServiceCount(name)));
    return c;
  }

  /** The tracker of instance position `unit` (the service's name, or NAME.K) of service `name`. */
  tracker(name: string, unit: string): Tracker {
    return this.count(name).unit(unit);
  }

  forget(name: string): void {
    this.counts.delete(name);
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
    const measured = [...this.services()].flatMap((s) =>
      s.units
        .filter((u) => u.cgroup !== null)
        .map((u) => ({ key: u.key, cgroup: u.cgroup!, pid: netPid(s, u), tracker: this.tracker(s.name, u.key), skipLimits: false })),
    );
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
      this.held.end(new Set([...this.services()].flatMap((s) => s.units.map((u) => u.cgroup)).filter((c) => c !== null)));
    }
    const latest: Latest = new Map();
    measured.forEach((m, i) => {
      const carried = m.tracker.apply(m.cgroup, m.tracker.limited(m.cgroup, stats[i], m.skipLimits, t0), links[i]);
      if (carried) latest.set(m.key, { instance: m.cgroup, stats: carried });
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
    const count = this.count(s.name);
    const labels = count.labels;
    const put = (metric: { set?: unknown; inc?: unknown }, v: number | null | undefined) => {
      if (v === null || v === undefined || !Number.isFinite(v)) return;
      if ('set' in metric && typeof metric.set === 'function') metric.set(labels, v);
      else if (typeof metric.inc === 'function') metric.inc(labels, Math.max(0, v));
    };
    const trackers = [...count.units.values()];
    const totals = trackers.map((t) => t.carry.totals());
    const total = (k: keyof (typeof totals)[number]) => sumKnown(totals.map((t) => t[k] ?? null).filter((v) => v !== null));
    // Counters: carried across instances, summed over every position the service has had, kept while none runs.
    put(r.cpuUsage, total('cpuUsageSeconds') ?? 0);
    put(r.cpuUser, total('cpuUserSeconds') ?? 0);
    put(r.cpuSystem, total('cpuSystemSeconds') ?? 0);
    put(r.cpuThrottled, total('cpuThrottledSeconds') ?? 0);
    put(r.oomKills, total('oomKills') ?? 0);
    put(r.pressureCpu, total('pressureCpuSeconds'));
    put(r.pressureMemory, total('pressureMemorySeconds'));
    put(r.pressureIo, total('pressureIoSeconds'));
    const linkKeys = new Set(trackers.flatMap((t) => [...t.links.keys()]));
    for (const key of linkKeys) {
      const metric = key.startsWith(RX) ? r.networkReceive : r.networkTransmit;
      let l = count.linkLabels.get(key);
      if (!l) count.linkLabels.set(key, (l = Object.freeze({ name: s.name, interface: key.slice(RX.length) })));
      metric.inc(l, trackers.reduce((n, t) => n + (t.links.total(key) ?? 0), 0));
    }
    // The figures of the instances running now (as the last collection read them).
    const now = s.units.map((u) => this.latest.get(u.key)).filter((l) => l !== undefined && s.units.some((u) => u.cgroup === l.instance)).map((l) => l!.stats);
    // Limits: the kernel's while instances run (summed: the service's budget), else the configuration's for each.
    const spec = specOf(s.settings.resources);
    const n = s.settings.instances ?? 1;
    const times = (v: number | null) => (v === null ? null : v * n);
    put(r.cpuQuota, now.length ? sumKnown(now.map((x) => x.cpuQuotaSeconds)) : times(spec.cpuQuotaSeconds));
    put(r.cpuPeriod, now[0]?.cpuPeriodSeconds ?? spec.cpuPeriodSeconds);
    put(r.memoryLimit, now.length ? sumLimits(now.map((x) => x.memoryLimitBytes)) : times(spec.memoryLimitBytes));
    put(r.tasksLimit, now.length ? sumLimits(now.map((x) => x.tasksLimit)) : times(spec.tasksLimit));
    // Usage gauges: only while an instance runs.
    if (!now.length) return;
    put(r.memoryUsage, sumKnown(now.map((x) => x.memoryUsageBytes)));
    put(r.memoryWorkingSet, sumKnown(now.map((x) => x.memoryWorkingSetBytes)));
    put(r.memoryRss, sumKnown(now.map((x) => x.memoryRssBytes)));
    put(r.tasks, sumKnown(now.map((x) => x.tasks)));
  }
}

/** The pid whose network namespace holds an instance's own interfaces: only when net is isolated and it runs. */
function netPid(s: MeteredService, u: { pid: number | null }): number | null {
  return u.pid && (s.settings.isolate ?? []).includes('net') ? u.pid : null;
}
