// Resource limits (SPEC 2 `resources`) mapped to the exact cgroup files and values of v2 and v1. Pure.

export interface Limits {
  /** Bytes. */
  memory?: number;
  /** Bytes; v2 only. */
  memoryHigh?: number;
  /** CPUs (0.5 = half of one). */
  cpus?: number;
  /** 1..10000, 100 the default share. */
  cpuWeight?: number;
  pids?: number;
}

/** One write: the controller whose file it is, the file name inside the service's cgroup, the text. */
export interface LimitWrite {
  controller: 'memory' | 'cpu' | 'pids';
  file: string;
  value: string;
}

/** The CFS period nsvisor uses: 100 ms, the kernel's default. */
export const CPU_PERIOD_US = 100_000;

/** cpus -> quota per period in microseconds (at least the kernel's 1 ms minimum). */
export function cpuQuota(cpus: number): { quota: number; period: number } {
  return { quota: Math.max(1000, Math.round(cpus * CPU_PERIOD_US)), period: CPU_PERIOD_US };
}

/** cpu.weight (1..10000, default 100) -> cpu.shares (2..262144, default 1024), as systemd maps them. */
export function weightToShares(weight: number): number {
  return Math.min(262144, Math.max(2, Math.round((weight * 1024) / 100)));
}

export class LimitError extends Error {}

function check(limits: Limits): void {
  const positiveInt = (key: keyof Limits) => {
    const v = limits[key];
    if (v !== undefined && (!Number.isSafeInteger(v) || v <= 0)) throw new LimitError(`resources.${key}: expected a positive whole number, got ${v}`);
  };
  positiveInt('memory');
  positiveInt('memoryHigh');
  positiveInt('pids');
  if (limits.cpus !== undefined && !(limits.cpus > 0 && Number.isFinite(limits.cpus))) {
    throw new LimitError(`resources.cpus: expected a positive number, got ${limits.cpus}`);
  }
  const w = limits.cpuWeight;
  if (w !== undefined && !(Number.isInteger(w) && w >= 1 && w <= 10000)) throw new LimitError(`resources.cpuWeight: expected 1..10000, got ${w}`);
}

export function v2Writes(limits: Limits, hasSwapFile: boolean): LimitWrite[] {
  check(limits);
  const out: LimitWrite[] = [];
  if (limits.memory !== undefined) {
    out.push({ controller: 'memory', file: 'memory.max', value: String(limits.memory) });
    // `memory` bounds everything the service holds: no swapping past it (there is no v1-style memsw total on v2).
    if (hasSwapFile) out.push({ controller: 'memory', file: 'memory.swap.max', value: '0' });
  }
  if (limits.memoryHigh !== undefined) out.push({ controller: 'memory', file: 'memory.high', value: String(limits.memoryHigh) });
  if (limits.cpus !== undefined) {
    const { quota, period } = cpuQuota(limits.cpus);
    out.push({ controller: 'cpu', file: 'cpu.max', value: `${quota} ${period}` });
  }
  if (limits.cpuWeight !== undefined) out.push({ controller: 'cpu', file: 'cpu.weight', value: String(limits.cpuWeight) });
  if (limits.pids !== undefined) out.push({ controller: 'pids', file: 'pids.max', value: String(limits.pids) });
  return out;
}

export function v1Writes(limits: Limits, hasMemswFile: boolean): LimitWrite[] {
  check(limits);
  if (limits.memoryHigh !== undefined) {
    throw new LimitError('resources.memoryHigh: memory.high exists only on cgroup v2 (this host has the v1 memory controller)');
  }
  const out: LimitWrite[] = [];
  if (limits.memory !== undefined) {
    out.push({ controller: 'memory', file: 'memory.limit_in_bytes', value: String(limits.memory) });
    // memory+swap no larger than memory: the limit bounds everything the service holds.
    if (hasMemswFile) out.push({ controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: String(limits.memory) });
  }
  if (limits.cpus !== undefined) {
    const { quota, period } = cpuQuota(limits.cpus);
    out.push({ controller: 'cpu', file: 'cpu.cfs_period_us', value: String(period) });
    out.push({ controller: 'cpu', file: 'cpu.cfs_quota_us', value: String(quota) });
  }
  if (limits.cpuWeight !== undefined) out.push({ controller: 'cpu', file: 'cpu.shares', value: String(weightToShares(limits.cpuWeight)) });
  if (limits.pids !== undefined) out.push({ controller: 'pids', file: 'pids.max', value: String(limits.pids) });
  return out;
}

/** Which controllers the limits need. */
export function controllersFor(limits: Limits): Set<'memory' | 'cpu' | 'pids'> {
  const s = new Set<'memory' | 'cpu' | 'pids'>();
  if (limits.memory !== undefined || limits.memoryHigh !== undefined) s.add('memory');
  if (limits.cpus !== undefined || limits.cpuWeight !== undefined) s.add('cpu');
  if (limits.pids !== undefined) s.add('pids');
  return s;
}

const LIMIT_KEYS = ['memory', 'memoryHigh', 'cpus', 'cpuWeight', 'pids'] as const;

/** The keys whose value differs between two sets of limits (added, changed or removed). */
export function changedLimits(prev: Limits, next: Limits): Set<keyof Limits> {
  return new Set(LIMIT_KEYS.filter((k) => prev[k] !== next[k]));
}

/** The writes that take a running v2 cgroup from `prev` to `next`: a limit taken away goes back to the kernel's default. */
export function v2Updates(prev: Limits, next: Limits, hasSwapFile: boolean): LimitWrite[] {
  check(next);
  const changed = changedLimits(prev, next);
  const out: LimitWrite[] = [];
  const w = (controller: LimitWrite['controller'], file: string, value: string) => out.push({ controller, file, value });
  if (changed.has('memory')) {
    w('memory', 'memory.max', next.memory === undefined ? 'max' : String(next.memory));
    if (hasSwapFile && (prev.memory === undefined || next.memory === undefined)) w('memory', 'memory.swap.max', next.memory === undefined ? 'max' : '0');
  }
  if (changed.has('memoryHigh')) w('memory', 'memory.high', next.memoryHigh === undefined ? 'max' : String(next.memoryHigh));
  if (changed.has('cpus')) w('cpu', 'cpu.max', next.cpus === undefined ? `max ${CPU_PERIOD_US}` : `${cpuQuota(next.cpus).quota} ${CPU_PERIOD_US}`);
  if (changed.has('cpuWeight')) w('cpu', 'cpu.weight', String(next.cpuWeight ?? 100));
  if (changed.has('pids')) w('pids', 'pids.max', next.pids === undefined ? 'max' : String(next.pids));
  return out;
}

/**
 * The writes that take a running v1 cgroup from `prev` to `next`. memory+swap may never be below memory, so a
 * raised (or removed) memory limit writes memsw first and a lowered one writes it last.
 */
export function v1Updates(prev: Limits, next: Limits, hasMemswFile: boolean): LimitWrite[] {
  check(next);
  if (next.memoryHigh !== undefined) {
    throw new LimitError('resources.memoryHigh: memory.high exists only on cgroup v2 (this host has the v1 memory controller)');
  }
  const changed = changedLimits(prev, next);
  const out: LimitWrite[] = [];
  const w = (controller: LimitWrite['controller'], file: string, value: string) => out.push({ controller, file, value });
  if (changed.has('memory')) {
    const value = next.memory === undefined ? '-1' : String(next.memory);
    const raised = next.memory === undefined || (prev.memory !== undefined && next.memory > prev.memory);
    const memsw = () => hasMemswFile && w('memory', 'memory.memsw.limit_in_bytes', value);
    if (raised) memsw();
    w('memory', 'memory.limit_in_bytes', value);
    if (!raised) memsw();
  }
  if (changed.has('cpus')) {
    if (prev.cpus === undefined) w('cpu', 'cpu.cfs_period_us', String(CPU_PERIOD_US));
    w('cpu', 'cpu.cfs_quota_us', next.cpus === undefined ? '-1' : String(cpuQuota(next.cpus).quota));
  }
  if (changed.has('cpuWeight')) w('cpu', 'cpu.shares', String(next.cpuWeight === undefined ? 1024 : weightToShares(next.cpuWeight)));
  if (changed.has('pids')) w('pids', 'pids.max', next.pids === undefined ? 'max' : String(next.pids));
  return out;
}
