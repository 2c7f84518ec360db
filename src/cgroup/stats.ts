// The resource figures of SPEC 5 parsed from the text of cgroup v2 and v1 files. Pure: the worker reads, this parses.

export interface CgroupStats {
  cpuUsageSeconds: number | null;
  cpuUserSeconds: number | null;
  cpuSystemSeconds: number | null;
  cpuThrottledSeconds: number | null;
  /** Null when unlimited. */
  cpuQuotaSeconds: number | null;
  cpuPeriodSeconds: number | null;
  memoryUsageBytes: number | null;
  /** Usage less inactive file pages: what the kernel cannot reclaim cheaply. */
  memoryWorkingSetBytes: number | null;
  memoryRssBytes: number | null;
  /** 0 = unlimited. */
  memoryLimitBytes: number | null;
  oomKills: number | null;
  tasks: number | null;
  /** 0 = unlimited. */
  tasksLimit: number | null;
  /** Total time some task waited, from the PSI files ("some total="); null where the kernel has none. */
  pressureCpuSeconds: number | null;
  pressureMemorySeconds: number | null;
  pressureIoSeconds: number | null;
}

/** The counters among the stats: they must never go backwards across a service's restarts. */
export const COUNTERS = [
  'cpuUsageSeconds',
  'cpuUserSeconds',
  'cpuSystemSeconds',
  'cpuThrottledSeconds',
  'oomKills',
  'pressureCpuSeconds',
  'pressureMemorySeconds',
  'pressureIoSeconds',
] as const satisfies readonly (keyof CgroupStats)[];

/** File name -> its text, or null when the file is absent (controller not there). */
export type FileTexts = Record<string, string | null | undefined>;

/** v1 writes "unlimited" as a huge multiple of the page size; anything this large means no limit. */
const V1_UNLIMITED = 2 ** 62;

/** "key value" lines (cpu.stat, memory.stat, memory.events, memory.oom_control) -> numbers. */
export function parseFlatKeyed(text: string | null | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^-?\d+$/.test(v)) out.set(k, Number(v));
  }
  return out;
}

/** A single number file; "max" is null (unlimited); absent is undefined. */
export function parseSingle(text: string | null | undefined): number | null | undefined {
  if (text === null || text === undefined) return undefined;
  const t = text.trim();
  if (t === 'max') return null;
  if (!/^-?\d+$/.test(t)) throw new Error(`expected a number or "max", got "${t}"`);
  return Number(t);
}

/** The "some ... total=USEC" of a PSI file, in seconds. */
export function parsePressureSome(text: string | null | undefined): number | null {
  const m = /^some .*\btotal=(\d+)/m.exec(text ?? '');
  return m ? Number(m[1]) / 1e6 : null;
}

const orNull = (v: number | null | undefined): number | null => (v === undefined ? null : v);
const get = (m: Map<string, number>, k: string, scale = 1): number | null => (m.has(k) ? m.get(k)! * scale : null);

function pressure(f: FileTexts) {
  return {
    pressureCpuSeconds: parsePressureSome(f['cpu.pressure']),
    pressureMemorySeconds: parsePressureSome(f['memory.pressure']),
    pressureIoSeconds: parsePressureSome(f['io.pressure']),
  };
}

/** The files statsV2 reads, relative to the service's cgroup. */
export const V2_FILES = [
  'cpu.stat', 'cpu.max', 'memory.current', 'memory.stat', 'memory.max', 'memory.events',
  'pids.current', 'pids.max', 'cpu.pressure', 'memory.pressure', 'io.pressure',
];

export function statsV2(f: FileTexts): CgroupStats {
  const cpu = parseFlatKeyed(f['cpu.stat']);
  const mem = parseFlatKeyed(f['memory.stat']);
  const events = parseFlatKeyed(f['memory.events']);
  const usage = orNull(parseSingle(f['memory.current']));
  const inactiveFile = mem.get('inactive_file');
  let quota: number | null = null;
  let period: number | null = null;
  if (f['cpu.max']) {
    const [q, p] = f['cpu.max'].trim().split(/\s+/);
    period = Number(p) / 1e6;
    quota = q === 'max' ? null : Number(q) / 1e6;
  }
  const memMax = parseSingle(f['memory.max']);
  const pidsMax = parseSingle(f['pids.max']);
  return {
    cpuUsageSeconds: get(cpu, 'usage_usec', 1e-6),
    cpuUserSeconds: get(cpu, 'user_usec', 1e-6),
    cpuSystemSeconds: get(cpu, 'system_usec', 1e-6),
    cpuThrottledSeconds: get(cpu, 'throttled_usec', 1e-6),
    cpuQuotaSeconds: quota,
    cpuPeriodSeconds: period,
    memoryUsageBytes: usage,
    memoryWorkingSetBytes: usage === null ? null : Math.max(0, usage - (inactiveFile ?? 0)),
    memoryRssBytes: get(mem, 'anon'),
    memoryLimitBytes: memMax === undefined ? null : memMax ?? 0,
    oomKills: get(events, 'oom_kill'),
    tasks: orNull(parseSingle(f['pids.current'])),
    tasksLimit: pidsMax === undefined ? null : pidsMax ?? 0,
    ...pressure(f),
  };
}

/** The v1 files statsV1 reads, by controller; pressure files come from the v2 tree of a hybrid host. */
export const V1_FILES: Record<string, string[]> = {
  cpuacct: ['cpuacct.usage', 'cpuacct.usage_user', 'cpuacct.usage_sys', 'cpuacct.stat'],
  cpu: ['cpu.stat', 'cpu.cfs_quota_us', 'cpu.cfs_period_us'],
  memory: ['memory.usage_in_bytes', 'memory.stat', 'memory.limit_in_bytes', 'memory.oom_control'],
  pids: ['pids.current', 'pids.max'],
  unified: ['cpu.pressure', 'memory.pressure', 'io.pressure'],
};

/** USER_HZ: the unit of cpuacct.stat. */
const USER_HZ = 100;

export function statsV1(f: FileTexts): CgroupStats {
  const cpu = parseFlatKeyed(f['cpu.stat']);
  const acct = parseFlatKeyed(f['cpuacct.stat']);
  const mem = parseFlatKeyed(f['memory.stat']);
  const oom = parseFlatKeyed(f['memory.oom_control']);
  const usage = orNull(parseSingle(f['memory.usage_in_bytes']));
  const limit = parseSingle(f['memory.limit_in_bytes']);
  const quotaUs = parseSingle(f['cpu.cfs_quota_us']);
  const periodUs = parseSingle(f['cpu.cfs_period_us']);
  const ns = (name: string) => {
    const v = parseSingle(f[name]);
    return v === undefined || v === null ? null : v / 1e9;
  };
  const pidsMax = parseSingle(f['pids.max']);
  return {
    cpuUsageSeconds: ns('cpuacct.usage'),
    // usage_user/usage_sys are in ns; older kernels only have cpuacct.stat in USER_HZ ticks.
    cpuUserSeconds: ns('cpuacct.usage_user') ?? get(acct, 'user', 1 / USER_HZ),
    cpuSystemSeconds: ns('cpuacct.usage_sys') ?? get(acct, 'system', 1 / USER_HZ),
    cpuThrottledSeconds: get(cpu, 'throttled_time', 1e-9),
    cpuQuotaSeconds: quotaUs === undefined || quotaUs === null || quotaUs < 0 ? null : quotaUs / 1e6,
    cpuPeriodSeconds: periodUs === undefined || periodUs === null ? null : periodUs / 1e6,
    memoryUsageBytes: usage,
    memoryWorkingSetBytes: usage === null ? null : Math.max(0, usage - (mem.get('total_inactive_file') ?? 0)),
    memoryRssBytes: get(mem, 'total_rss'),
    memoryLimitBytes: limit === undefined ? null : limit === null || limit >= V1_UNLIMITED ? 0 : limit,
    oomKills: get(oom, 'oom_kill'),
    tasks: orNull(parseSingle(f['pids.current'])),
    tasksLimit: pidsMax === undefined ? null : pidsMax ?? 0,
    ...pressure(f),
  };
}
