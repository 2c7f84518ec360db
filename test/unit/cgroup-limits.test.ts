// Unit tests of the resources -> cgroup file mapping for v2 and v1.
import { strict as assert } from 'assert';

import { controllersFor, cpuQuota, v1Updates, v1Writes, v2Updates, v2Writes, weightToShares } from '../../src/cgroup/limits';

const MI = 1024 * 1024;

describe('cgroup: limits mapping', () => {
  it('maps cpus to a quota per 100 ms period, never under the kernel minimum of 1 ms', () => {
    assert.deepEqual(cpuQuota(0.5), { quota: 50_000, period: 100_000 });
    assert.deepEqual(cpuQuota(2), { quota: 200_000, period: 100_000 });
    assert.deepEqual(cpuQuota(0.001), { quota: 1000, period: 100_000 });
  });
  it('maps cpu.weight to cpu.shares as systemd does (100 -> 1024), clamped to the kernel range', () => {
    assert.equal(weightToShares(100), 1024);
    assert.equal(weightToShares(50), 512);
    assert.equal(weightToShares(1), 10);
    assert.equal(weightToShares(10000), 102400);
  });
  it('writes the v2 files in order, with no swap past memory', () => {
    assert.deepEqual(v2Writes({ memory: 256 * MI, memoryHigh: 200 * MI, cpus: 0.5, cpuWeight: 100, pids: 128 }, true), [
      { controller: 'memory', file: 'memory.max', value: '268435456' },
      { controller: 'memory', file: 'memory.swap.max', value: '0' },
      { controller: 'memory', file: 'memory.high', value: '209715200' },
      { controller: 'cpu', file: 'cpu.max', value: '50000 100000' },
      { controller: 'cpu', file: 'cpu.weight', value: '100' },
      { controller: 'pids', file: 'pids.max', value: '128' },
    ]);
    assert.deepEqual(v2Writes({ memory: MI }, false).map((w) => w.file), ['memory.max']);
    assert.deepEqual(v2Writes({}, true), []);
  });
  it('writes the v1 files: memory then memsw (memsw may not go below memory), period before quota', () => {
    assert.deepEqual(v1Writes({ memory: 64 * MI, cpus: 1.5, cpuWeight: 200, pids: 10 }, true), [
      { controller: 'memory', file: 'memory.limit_in_bytes', value: '67108864' },
      { controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: '67108864' },
      { controller: 'cpu', file: 'cpu.cfs_period_us', value: '100000' },
      { controller: 'cpu', file: 'cpu.cfs_quota_us', value: '150000' },
      { controller: 'cpu', file: 'cpu.shares', value: '2048' },
      { controller: 'pids', file: 'pids.max', value: '10' },
    ]);
  });
  it('refuses memoryHigh on v1 instead of skipping it', () => {
    assert.throws(() => v1Writes({ memoryHigh: MI }, true), /resources.memoryHigh: memory.high exists only on cgroup v2/);
  });
  it('refuses values the kernel would refuse, naming the key and the value', () => {
    assert.throws(() => v2Writes({ pids: 0 }, true), /resources.pids: expected a positive whole number, got 0/);
    assert.throws(() => v2Writes({ cpus: -1 }, true), /resources.cpus: expected a positive number, got -1/);
    assert.throws(() => v1Writes({ cpuWeight: 20000 }, true), /resources.cpuWeight: expected 1..10000, got 20000/);
  });
  it('updates a running v2 cgroup: only what changed, a removed limit back to the default', () => {
    assert.deepEqual(v2Updates({ memory: 64 * MI, pids: 10, cpus: 1 }, { memory: 128 * MI, cpuWeight: 50, cpus: 1 }, true), [
      { controller: 'memory', file: 'memory.max', value: '134217728' },
      { controller: 'cpu', file: 'cpu.weight', value: '50' },
      { controller: 'pids', file: 'pids.max', value: 'max' },
    ]);
    assert.deepEqual(v2Updates({ memory: MI, cpus: 0.5 }, {}, true).map((w) => `${w.file}=${w.value}`), ['memory.max=max', 'memory.swap.max=max', 'cpu.max=max 100000']);
    assert.deepEqual(v2Updates({}, { memory: MI }, true).map((w) => `${w.file}=${w.value}`), ['memory.max=1048576', 'memory.swap.max=0']);
    assert.deepEqual(v2Updates({ pids: 5 }, { pids: 5 }, true), []);
  });
  it('updates a running v1 cgroup: memsw first when memory goes up or away, last when it goes down', () => {
    const files = (prev: object, next: object) => v1Updates(prev, next, true).map((w) => `${w.file}=${w.value}`);
    assert.deepEqual(files({ memory: 64 * MI }, { memory: 128 * MI }), ['memory.memsw.limit_in_bytes=134217728', 'memory.limit_in_bytes=134217728']);
    assert.deepEqual(files({ memory: 128 * MI }, { memory: 64 * MI }), ['memory.limit_in_bytes=67108864', 'memory.memsw.limit_in_bytes=67108864']);
    assert.deepEqual(files({ memory: 64 * MI }, {}), ['memory.memsw.limit_in_bytes=-1', 'memory.limit_in_bytes=-1']);
    assert.deepEqual(files({}, { cpus: 0.5 }), ['cpu.cfs_period_us=100000', 'cpu.cfs_quota_us=50000']);
    assert.deepEqual(files({ cpus: 0.5, cpuWeight: 200, pids: 3 }, {}), ['cpu.cfs_quota_us=-1', 'cpu.shares=1024', 'pids.max=max']);
    assert.throws(() => v1Updates({}, { memoryHigh: MI }, true), /memory.high exists only on cgroup v2/);
  });
  it('knows which controllers the limits need', () => {
    assert.deepEqual([...controllersFor({ memoryHigh: 1, cpuWeight: 5 })].sort(), ['cpu', 'memory']);
    assert.deepEqual([...controllersFor({})], []);
  });
});
