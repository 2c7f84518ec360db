// One instance position's counting across its instances for the resource metrics: counters carried, interface counters, the limits last read.
import { CounterCarry } from '../cgroup/counter-carry';
import { COUNTERS, CgroupStats } from '../cgroup/stats';
import type { LinkCounters } from '../net/links';
import type { ExitRecord } from '../launch/exit-reason';

/** How long the limit files of an instance are trusted: nsvisor writes them itself when it creates the cgroup. */
const LIMITS_MAX_AGE_MS = 10_000;
type LimitFigures = Pick<CgroupStats, 'cpuQuotaSeconds' | 'cpuPeriodSeconds' | 'memoryLimitBytes' | 'tasksLimit'>;

/** Keys of the interface counters in Tracker.links: "rx:eth0", "tx:eth0". */
export const RX = 'rx:';
const TX = 'tx:';

/** One instance position's counting across its instances (each a fresh cgroup whose counters start at 0). */
export class Tracker {
  readonly carry = new CounterCarry();
  /** Interface byte counters, keyed "rx:eth0" and "tx:eth0": an interface keeps its series after its instance ended. */
  readonly links = new CounterCarry();
  /** The cgroup whose figures `carry` holds as its current ones. */
  instance: object | null = null;
  /** The instance `instance` replaced, with its figures as last read: an old instance may still drain. */
  private previous: { instance: object; last: Map<string, number> } | null = null;
  oomSeen = false;
  /** The cgroup a collection in flight last read: if that instance ends first, its figures must not be applied. */
  captured: object | null = null;
  readonly ended = new WeakSet<object>();
  /** The kernel's limits of an instance as last read, and when. */
  private limits: { instance: object; at: number; figures: LimitFigures } | null = null;

  /** Whether a collection may leave out the limit files of `instance`: they were read recently. */
  knowsLimits(instance: object, now: number): boolean {
    return this.limits?.instance === instance && now - this.limits.at < LIMITS_MAX_AGE_MS;
  }

  /** Stats read without the limit files get the ones last read; stats read with them renew those. */
  limited(instance: object, stats: CgroupStats, skipped: boolean, now: number): CgroupStats {
    if (skipped && this.limits) return { ...stats, ...this.limits.figures };
    const { cpuQuotaSeconds, cpuPeriodSeconds, memoryLimitBytes, tasksLimit } = stats;
    this.limits = { instance, at: now, figures: { cpuQuotaSeconds, cpuPeriodSeconds, memoryLimitBytes, tasksLimit } };
    return stats;
  }

  /** Figures of `instance`; ignored when that instance has ended meanwhile (they are carried already). */
  apply(instance: object, stats: CgroupStats, links: LinkCounters[]): CgroupStats | null {
    if (this.ended.has(instance)) return null;
    if (instance !== this.instance) {
      if (this.instance) this.previous = { instance: this.instance, last: this.carry.lastFigures() };
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

  /**
   * An instance ended, and `final` are its cgroup's figures read just before the cgroup went: what it counted
   * since it was last read (or at all, if never) is added. The current instance, one a newer instance replaced
   * (a zero-downtime restart's old instance draining), or one never read (a failed replacement) alike.
   * Returns whether the figures show an OOM kill (counted with them).
   */
  settle(instance: object, final: CgroupStats): boolean {
    const current = instance === this.instance;
    if (!current && this.ended.has(instance)) return false; // settled already
    this.ended.add(instance);
    // What an instance that is not the current one had counted when last read: the replaced one's, or nothing.
    const since = instance === this.previous?.instance ? this.previous.last : new Map<string, number>();
    for (const k of COUNTERS) {
      const v = final[k];
      if (v === null) continue;
      if (current) this.carry.reading(k, v);
      else this.carry.add(k, Math.max(0, v - (since.get(k) ?? 0)));
    }
    if (instance === this.previous?.instance) this.previous = null;
    return (final.oomKills ?? 0) > 0;
  }

  /**
   * The serving instance ended and its cgroup is gone: keep its counts; an OOM kill neither its stats nor its final
   * figures (`oomCounted`) showed still counts.
   */
  exited(exit: ExitRecord, oomCounted = false): void {
    for (const i of [this.instance, this.captured]) if (i) this.ended.add(i);
    if (exit.reason === 'oom_killed' && !this.oomSeen && !oomCounted) this.carry.add('oomKills', 1);
    this.carry.restarted();
    this.links.restarted();
    if (this.instance) this.previous = null;
    this.instance = null;
    this.oomSeen = false;
  }
}
