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

/** Figures as the stats worker returns them: with the fds it opened for a target that asked to hold its files. */
export interface CollectedStats extends CgroupStats {
  fds?: Record<string, number | null>;
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

const INTEGER = /^-?\d+$/;

/** "key value" lines (cpu.stat, memory.stat, memory.events, memory.oom_control) -> numbers. Scans the text once: it runs for every cgroup at every scrape. */
export function parseFlatKeyed(text: string | null | undefined): Map<string, number> {
  const out = new Map<string, number>();
  if (!text) return out;
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const space = text.indexOf(' ', start);
    if (space > start && space < end) {
      const v = text.slice(space + 1, end).trim();
      if (INTEGER.test(v)) out.set(text.slice(start, space), Number(v));
    }
    start = end + 1;
  }
  return out;
}

/** The value of `key` in a flat keyed text, or null: one search, no table (the collection needs few keys of memory.stat's many). */
export function keyedValue(text: string | null | undefined, key: string): number | null {
  if (!text) return null;
  let at = text.startsWith(`${key} `) ? 0 : text.indexOf(`\n${key} `) + 1;
  if (at === 0 && !text.startsWith(`${key} `)) return null;
  at += key.length + 1;
  let end = text.indexOf('\n', at);
  if (end < 0) end = text.length;
  const v = text.slice(at, end).trim();
  return INTEGER.test(v) ? Number(v) : null;
}

/** The per-CPU table of cpuacct.usage_all ("cpu user system" then a row per CPU, ns) summed by column. */
export function parseUsageAll(text: string | null | undefined): { user: number; system: number } | null {
  if (!text || !text.startsWith('cpu user system')) return null;
  let user = 0;
  let system = 0;
  for (const row of text.split('\n').slice(1)) {
    const [, u, sys] = row.split(' ');
    if (sys === undefined) continue;
    user += Number(u);
    system += Number(sys);
  }
  return { user, system };
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
const get = (text: string | null | undefined, k: string, scale = 1): number | null => {
  const v = keyedValue(text, k);
  return v === null ? null : v * scale;
};

function pressure(f: FileTexts) {
  return {
    pressureCpuSeconds: parsePressureSome(f['cpu.pressure']),
    pressureMemorySeconds: parsePressureSome(f['memory.pressure']),
    pressureIoSeconds: parsePressureSome(f['io.pressure']),
  };
}

/** The files statsV2 reads at each collection, relative to the service's cgroup. */
export const V2_FILES = ['cpu.stat', 'memory.current', 'memory.stat', 'memory.events', 'pids.current', 'cpu.pressure', 'memory.pressure', 'io.pressure'];
/** The limits: they change only when someone writes them, so a collector may read them less often. */
export const V2_LIMIT_FILES = ['cpu.max', 'memory.max', 'pids.max'];

export function statsV2(f: FileTexts): CgroupStats {
  const cpu = f['cpu.stat'];
  const mem = f['memory.stat'];
  const events = f['memory.events'];
  const usage = orNull(parseSingle(f['memory.current']));
  const inactiveFile = keyedValue(mem, 'inactive_file');
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

/** The v1 files statsV1 reads at each collection, by controller; pressure files come from the v2 tree of a hybrid host. */
export const V1_FILES: Record<string, string[]> = {
  cpuacct: ['cpuacct.usage', 'cpuacct.usage_all'],
  cpu: ['cpu.stat'],
  memory: ['memory.usage_in_bytes', 'memory.stat', 'memory.oom_control'],
  pids: ['pids.current'],
  unified: ['cpu.pressure', 'memory.pressure', 'io.pressure'],
};
/** The v1 limits, by controller (see V2_LIMIT_FILES). */
export const V1_LIMIT_FILES: Record<string, string[]> = {
  cpu: ['cpu.cfs_quota_us', 'cpu.cfs_period_us'],
  memory: ['memory.limit_in_bytes'],
  pids: ['pids.max'],
};
/** Read only where cpuacct.usage_all is missing (kernels before 4.7): user and system in USER_HZ ticks. */
export const V1_FALLBACK_FILE = 'cpuacct.stat';

/** The few files behind what `nsvisor status` shows (cpu used, memory used and its limit), by hierarchy. */
export const BRIEF_FILES: Record<'v1' | 'v2', Record<string, string[]>> = {
  v2: { v2: ['cpu.stat', 'memory.current', 'memory.max'] },
  v1: { cpuacct: ['cpuacct.usage'], memory: ['memory.usage_in_bytes', 'memory.limit_in_bytes'] },
};

/** The files of the counters (COUNTERS) alone, by hierarchy: what an instance's last figures add, read as its cgroup goes. */
export const COUNTER_FILES: Record<'v1' | 'v2', Record<string, string[]>> = {
  v2: { v2: ['cpu.stat', 'memory.events', 'cpu.pressure', 'memory.pressure', 'io.pressure'] },
  v1: { cpuacct: ['cpuacct.usage', 'cpuacct.usage_all'], cpu: ['cpu.stat'], memory: ['memory.oom_control'], unified: ['cpu.pressure', 'memory.pressure', 'io.pressure'] },
};

/** The files a collection reads each time, with their paths: those a collector may hold open between collections. */
export function collectionFiles(dirs: Record<string, string>, kind: 'v1' | 'v2'): { name: string; path: string }[] {
  if (kind === 'v2') return V2_FILES.map((name) => ({ name, path: `${dirs.v2}/${name}` }));
  return Object.entries(V1_FILES).flatMap(([controller, names]) => (dirs[controller] ? names.map((name) => ({ name, path: `${dirs[controller]}/${name}` })) : []));
}

/** USER_HZ: the unit of cpuacct.stat. */
const USER_HZ = 100;

export function statsV1(f: FileTexts): CgroupStats {
  const cpu = f['cpu.stat'];
  const acct = f['cpuacct.stat'];
  const mem = f['memory.stat'];
  const oom = f['memory.oom_control'];
  const usage = orNull(parseSingle(f['memory.usage_in_bytes']));
  const limit = parseSingle(f['memory.limit_in_bytes']);
  const quotaUs = parseSingle(f['cpu.cfs_quota_us']);
  const periodUs = parseSingle(f['cpu.cfs_period_us']);
  const ns = (name: string) => {
    const v = parseSingle(f[name]);
    return v === undefined || v === null ? null : v / 1e9;
  };
  const pidsMax = parseSingle(f['pids.max']);
  const all = parseUsageAll(f['cpuacct.usage_all']);
  return {
    cpuUsageSeconds: ns('cpuacct.usage'),
    // usage_all (the per-CPU user and system of usage_user/usage_sys) is in ns; older kernels only have cpuacct.stat in USER_HZ ticks.
    cpuUserSeconds: all ? all.user / 1e9 : get(acct, 'user', 1 / USER_HZ),
    cpuSystemSeconds: all ? all.system / 1e9 : get(acct, 'system', 1 / USER_HZ),
    cpuThrottledSeconds: get(cpu, 'throttled_time', 1e-9),
    cpuQuotaSeconds: quotaUs === undefined || quotaUs === null || quotaUs < 0 ? null : quotaUs / 1e6,
    cpuPeriodSeconds: periodUs === undefined || periodUs === null ? null : periodUs / 1e6,
    memoryUsageBytes: usage,
    memoryWorkingSetBytes: usage === null ? null : Math.max(0, usage - (keyedValue(mem, 'total_inactive_file') ?? 0)),
    memoryRssBytes: get(mem, 'total_rss'),
    memoryLimitBytes: limit === undefined ? null : limit === null || limit >= V1_UNLIMITED ? 0 : limit,
    oomKills: get(oom, 'oom_kill'),
    tasks: orNull(parseSingle(f['pids.current'])),
    tasksLimit: pidsMax === undefined ? null : pidsMax ?? 0,
    ...pressure(f),
  };
}
