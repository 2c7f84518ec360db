// Unit tests of the stats parsers on file contents captured from real v2 and v1 kernels, and of counter carrying.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';

import { CounterCarry } from '../../src/cgroup/counter-carry';
import { statsOf } from '../../src/workers/cgroup-stats';
import { CgroupStats, COUNTERS, FileTexts, keyedValue, parseFlatKeyed, parsePressureSome, parseSingle, statsV1, statsV2, V1_FILES, V1_LIMIT_FILES, V2_FILES, V2_LIMIT_FILES } from '../../src/cgroup/stats';

const fixtures = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'cgroup');

function load(dir: string, names: string[]): FileTexts {
  return Object.fromEntries(names.map((n) => [n, fs.readFileSync(path.join(fixtures, dir, n), 'utf8')]));
}

describe('cgroup: stats parsing', () => {
  it('reads every SPEC 5 figure from v2 files', () => {
    const s = statsV2(load('v2', [...V2_FILES, ...V2_LIMIT_FILES]));
    const expected: CgroupStats = {
      cpuUsageSeconds: 0.667596,
      cpuUserSeconds: 0.175328,
      cpuSystemSeconds: 0.492268,
      cpuThrottledSeconds: 0.37935,
      cpuQuotaSeconds: 0.05,
      cpuPeriodSeconds: 0.1,
      memoryUsageBytes: 2228224,
      memoryWorkingSetBytes: 2228224 - 1093632,
      memoryRssBytes: 262144,
      memoryLimitBytes: 67108864,
      oomKills: 0,
      tasks: 5,
      tasksLimit: 32,
      pressureCpuSeconds: 0.381832,
      pressureMemorySeconds: 0,
      pressureIoSeconds: 0,
    };
    for (const k of Object.keys(expected) as (keyof CgroupStats)[]) assert.ok(Math.abs((s[k] ?? NaN) - expected[k]!) < 1e-9, `${k}: ${s[k]} != ${expected[k]}`);
  });
  it('reads every SPEC 5 figure from v1 files (pressure from the v2 tree of a hybrid host)', () => {
    const s = statsV1(load('v1', [...Object.values(V1_FILES), ...Object.values(V1_LIMIT_FILES)].flat()));
    assert.equal(s.cpuUsageSeconds, 0.425689735);
    assert.equal(s.cpuUserSeconds, 0.462325129);
    assert.equal(s.cpuSystemSeconds, 0.016);
    assert.equal(s.cpuThrottledSeconds, 0);
    assert.equal(s.cpuQuotaSeconds, 0.05);
    assert.equal(s.cpuPeriodSeconds, 0.1);
    assert.equal(s.memoryUsageBytes, 3518464);
    assert.equal(s.memoryWorkingSetBytes, 3518464);
    assert.equal(s.memoryRssBytes, 3293184);
    assert.equal(s.memoryLimitBytes, 67108864);
    assert.equal(s.oomKills, 0);
    assert.equal(s.tasks, 2);
    assert.equal(s.tasksLimit, 32);
    assert.equal(s.pressureCpuSeconds, 0.47644);
    assert.equal(s.pressureIoSeconds, 0);
  });
  it('reports unlimited as 0 for limits and null for the cpu quota', () => {
    const v2 = statsV2({ 'memory.max': 'max\n', 'pids.max': 'max\n', 'cpu.max': 'max 100000\n' });
    assert.deepEqual([v2.memoryLimitBytes, v2.tasksLimit, v2.cpuQuotaSeconds, v2.cpuPeriodSeconds], [0, 0, null, 0.1]);
    const v1 = statsV1({ 'memory.limit_in_bytes': '9223372036854771712\n', 'pids.max': 'max\n', 'cpu.cfs_quota_us': '-1\n', 'cpu.cfs_period_us': '100000\n' });
    assert.deepEqual([v1.memoryLimitBytes, v1.tasksLimit, v1.cpuQuotaSeconds, v1.cpuPeriodSeconds], [0, 0, null, 0.1]);
  });
  it('reads the OOM kill count of both kinds', () => {
    assert.equal(statsV2({ 'memory.events': 'low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n' }).oomKills, 1);
    assert.equal(statsV1({ 'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 3\n' }).oomKills, 3);
  });
  it('gives null for what the kernel does not have, never 0', () => {
    const s = statsV1({});
    assert.ok(Object.values(s).every((v) => v === null));
    assert.equal(parsePressureSome(null), null);
    assert.equal(parseSingle(undefined), undefined);
  });
  it('sums the per-CPU user and system of cpuacct.usage_all; ignores a table it does not know', () => {
    const s = statsV1({ 'cpuacct.usage_all': 'cpu user system\n0 1000000000 5\n1 500000000 7\n' });
    assert.equal(s.cpuUserSeconds, 1.5);
    assert.equal(s.cpuSystemSeconds, 12e-9);
    assert.equal(statsV1({ 'cpuacct.usage_all': 'cpu user\n0 5\n' }).cpuUserSeconds, null);
  });
  it('parses flat keyed files with odd spacing and lines that are not numbers, whole or one key at a time', () => {
    assert.deepEqual([...parseFlatKeyed('a 1\nb  -2 \nc x\n\nd 3').entries()], [['a', 1], ['b', -2], ['d', 3]]);
    const text = 'anon 5\nfile 7\ninactive_anon 1\nanon_thp 2\nbad x\n';
    assert.deepEqual(['anon', 'file', 'anon_thp', 'thp', 'bad', 'inactive_anon'].map((k) => keyedValue(text, k)), [5, 7, 2, null, null, 1]);
  });
  it('falls back to cpuacct.stat ticks where usage_all is missing', () => {
    const s = statsV1({ 'cpuacct.stat': 'user 150\nsystem 25\n' });
    assert.equal(s.cpuUserSeconds, 1.5);
    assert.equal(s.cpuSystemSeconds, 0.25);
  });
});

describe('cgroup: the brief figures of a status', () => {
  const shown = ['cpuUsageSeconds', 'memoryUsageBytes', 'memoryLimitBytes'] as const;
  for (const kind of ['v2', 'v1'] as const) {
    it(`${kind}: reads cpu used, memory used and its limit as a full collection does, without the files of the rest (tasks, rss: null)`, () => {
      const dir = path.join(fixtures, kind);
      const dirs: Record<string, string> = kind === 'v2' ? { v2: dir } : { cpuacct: dir, cpu: dir, memory: dir, pids: dir, unified: dir };
      const full = statsOf({ kind, dirs });
      const brief = statsOf({ kind, dirs, brief: true });
      for (const k of shown) {
        assert.notEqual(full[k], null, k);
        assert.equal(brief[k], full[k], k);
      }
      for (const k of ['tasks', 'memoryRssBytes', 'tasksLimit'] as const) {
        assert.notEqual(full[k], null, k);
        assert.equal(brief[k], null, k);
      }
    });
  }
});

describe('cgroup: the last figures of an ended instance', () => {
  for (const kind of ['v2', 'v1'] as const) {
    it(`${kind}: reads every counter as a full collection does, without the files of the gauges (memory, tasks: null)`, () => {
      const dir = path.join(fixtures, kind);
      const dirs: Record<string, string> = kind === 'v2' ? { v2: dir } : { cpuacct: dir, cpu: dir, memory: dir, pids: dir, unified: dir };
      const full = statsOf({ kind, dirs });
      const last = statsOf({ kind, dirs, counters: true });
      for (const k of COUNTERS) assert.equal(last[k], full[k], k);
      for (const k of ['memoryUsageBytes', 'memoryRssBytes', 'tasks'] as const) {
        assert.notEqual(full[k], null, k);
        assert.equal(last[k], null, k);
      }
    });
  }
});

describe('cgroup: counters across restarts', () => {
  const stats = (cpu: number, oom: number): CgroupStats => ({ ...statsV1({}), cpuUsageSeconds: cpu, oomKills: oom, tasks: 1 });
  it('never goes backwards when a new cgroup starts from zero', () => {
    const c = new CounterCarry();
    assert.equal(c.apply(stats(5, 0)).cpuUsageSeconds, 5);
    assert.equal(c.apply(stats(7, 1)).cpuUsageSeconds, 7);
    c.restarted();
    const after = c.apply(stats(0.5, 0));
    assert.equal(after.cpuUsageSeconds, 7.5);
    assert.equal(after.oomKills, 1);
    assert.equal(after.tasks, 1, 'gauges are passed through');
  });
  it('notices a reset it was not told about', () => {
    const c = new CounterCarry();
    c.apply(stats(10, 2));
    assert.equal(c.apply(stats(1, 0)).cpuUsageSeconds, 11);
    assert.equal(c.apply(stats(2, 0)).oomKills, 2);
  });
  it('keeps the carried total while the service has no cgroup', () => {
    const c = new CounterCarry();
    c.apply(stats(4, 0));
    c.restarted();
    assert.equal(c.apply({ ...stats(0, 0), cpuUsageSeconds: null }).cpuUsageSeconds, 4);
  });
});
