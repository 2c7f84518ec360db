// Counters that never go backwards across restarts: each new instance counts from zero, so what the earlier ones counted is carried.
import { COUNTERS, CgroupStats } from './stats';

type StatsCounter = (typeof COUNTERS)[number];

/**
 * One service's counters, by key: the cgroup counters of CgroupStats, or any other key (a network interface's
 * "rx:eth0"). `reading` takes the current instance's figure; `restarted` keeps everything counted so far.
 */
export class CounterCarry<K extends string = string> {
  private readonly carried = new Map<K | StatsCounter, number>();
  private readonly last = new Map<K | StatsCounter, number>();

  /** Call when the service gets a fresh instance: everything counted so far is kept. */
  restarted(): void {
    for (const [k, v] of this.last) this.carried.set(k, (this.carried.get(k) ?? 0) + v);
    this.last.clear();
  }

  /** Counts something the current instance can no longer show (it is gone): added to what is carried. */
  add(key: K | StatsCounter, n: number): void {
    this.carried.set(key, (this.carried.get(key) ?? 0) + n);
  }

  /** The current instance's figure of `key`; returns the total. A figure below the last one means a new instance. */
  reading(key: K | StatsCounter, v: number): number {
    const last = this.last.get(key) ?? 0;
    if (v < last) this.carried.set(key, (this.carried.get(key) ?? 0) + last);
    this.last.set(key, v);
    return (this.carried.get(key) ?? 0) + v;
  }

  /** The current instance's figures as last read (a copy). */
  lastFigures(): Map<K | StatsCounter, number> {
    return new Map(this.last);
  }

  /** Carried plus the current instance's last figure; null when `key` was never seen. */
  total(key: K | StatsCounter): number | null {
    if (!this.carried.has(key) && !this.last.has(key)) return null;
    return (this.carried.get(key) ?? 0) + (this.last.get(key) ?? 0);
  }

  /** Every key seen so far, in the order first seen. */
  keys(): (K | StatsCounter)[] {
    return [...new Set([...this.carried.keys(), ...this.last.keys()])];
  }

  /** Every cgroup counter as counted so far. */
  totals(): Record<StatsCounter, number | null> {
    const out = {} as Record<StatsCounter, number | null>;
    for (const k of COUNTERS) out[k] = this.total(k);
    return out;
  }

  /** The stats with each counter replaced by its total; a counter the instance does not show keeps what is carried. */
  apply(stats: CgroupStats): CgroupStats {
    const out = { ...stats };
    for (const k of COUNTERS) {
      const v = stats[k];
      out[k] = v === null ? (this.carried.has(k) ? this.total(k) : null) : this.reading(k, v);
    }
    return out;
  }
}
