// The limits bite on the real kernel: OOM kill reported oom_killed, a fork bomb held at pids.max, a CPU burner held to cpus.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';

import { CgroupHandle, CgroupPool } from '../../src/cgroup';
import { detectLayout } from '../../src/cgroup/detect';
import { statsOf } from '../../src/workers/cgroup-stats';
import { cli, requireRoot, waitFor, withSandbox } from './helpers';
import { kernelFile, keyed, removeTestRoot, testRoot } from './cgroup-helpers';
import { sandbox } from '../../src';

const MI = 1024 * 1024;
const devNull = fs.openSync('/dev/null', 'r+');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('cgroups: limits on the real kernel', function () {
  this.timeout(300_000);
  const root = testRoot();
  before(requireRoot);
  after(() => removeTestRoot(root));

  it('a memory hog is OOM-killed and the sandbox ends with reason oom_killed', async () => {
    let cg!: CgroupHandle;
    const r = await sandbox({ command: ['tail', '/dev/zero'], resources: { memory: 32 * MI }, cgroupRoot: root, stdio: [devNull, devNull, devNull], onCgroup: (h) => (cg = h) });
    assert.equal(r.reason, 'oom_killed');
    assert.equal(r.code, 137, 'tail died of SIGKILL');
    assert.ok(!fs.existsSync(cg.dirs[0]), 'the cgroup is removed after');
  });

  it('reports oom_killed when the OOM killer chose a child, not the main process', async () => {
    const r = await sandbox({
      command: ['sh', '-c', 'tail /dev/zero; exit 3'],
      resources: { memory: 32 * MI },
      cgroupRoot: root,
      stdio: [devNull, devNull, devNull],
    });
    assert.deepEqual([r.code, r.reason], [3, 'oom_killed']);
  });

  it('nsvisor sandbox --memory says the OOM killer ended it and exits 137', () => {
    const r = cli(['sandbox', '--cgroup-root', root, '--memory', '32Mi', '--', 'tail', '/dev/zero']);
    assert.equal(r.code, 137, r.stderr);
    assert.match(r.stderr, /nsvisor: the OOM killer ended a process of the sandbox \(--memory 32Mi\)/);
  });

  it('a fork bomb stays at pids.max and the host can still fork', async () => {
    const limit = 32;
    // Bounded (2^11 processes without a limit) so that a broken limit cannot take the machine down. The main
    // process forks once, before the bomb, and then only sleeps: a shell whose fork fails exits, and the
    // sandbox must outlive the refused forks.
    const bomb = 'b() { if [ $1 -gt 0 ]; then b $(($1-1)) & b $(($1-1)) & fi; sleep 30; }; b 10 & exec sleep 30';
    let cg!: CgroupHandle;
    await withSandbox({ command: ['sh', '-c', bomb], resources: { pids: limit }, cgroupRoot: root, onCgroup: (h) => (cg = h) }, async () => {
      assert.equal(kernelFile(cg, 'pids.max'), String(limit));
      await waitFor('the bomb to hit pids.max', () => keyed(cg, 'pids.events', 'max') > 0);
      for (let i = 0; i < 10; i++) {
        const current = Number(kernelFile(cg, 'pids.current'));
        assert.ok(current <= limit, `pids.current ${current} > ${limit}`);
        await sleep(50);
      }
      const host = spawnSync('/bin/sh', ['-c', 'echo alive'], { encoding: 'utf8' });
      assert.equal(host.stdout, 'alive\n', 'the host can still fork');
    });
    assert.ok(!fs.existsSync(cg.dirs[0]));
  });

  it('a CPU burner (2 busy loops) is held to cpus 0.5, within 20%', async () => {
    let cg!: CgroupHandle;
    const burner = 'for i in 1 2; do (while :; do :; done) & done; wait';
    const pool = new CgroupPool({ threads: 1 });
    try {
      await withSandbox({ command: ['sh', '-c', burner], resources: { cpus: 0.5 }, cgroupRoot: root, onCgroup: (h) => (cg = h) }, async () => {
        await sleep(500);
        const [a] = await pool.collect([cg.statsTarget]);
        const t0 = process.hrtime.bigint();
        await sleep(4000);
        const [b] = await pool.collect([cg.statsTarget]);
        const wall = Number(process.hrtime.bigint() - t0) / 1e9;
        const cpus = (b.cpuUsageSeconds! - a.cpuUsageSeconds!) / wall;
        assert.ok(Math.abs(cpus - 0.5) <= 0.1, `measured ${cpus.toFixed(3)} CPUs, configured 0.5`);
        assert.ok(b.cpuThrottledSeconds! > a.cpuThrottledSeconds!, 'the quota throttled it');
      });
    } finally {
      await pool.close();
    }
  });

  it('stats read on the pool match the kernel files', async () => {
    let cg!: CgroupHandle;
    const pool = new CgroupPool({ threads: 1 });
    try {
      await withSandbox(
        { command: ['sh', '-c', 'sleep 60 & sleep 60 & wait'], resources: { memory: 64 * MI, cpus: 1.5, pids: 50 }, cgroupRoot: root, onCgroup: (h) => (cg = h) },
        async () => {
          await waitFor('4 tasks', () => statsOf(cg.statsTarget).tasks === 4);
          const [s] = await pool.collect([cg.statsTarget]);
          const v2 = cg.statsTarget.kind === 'v2';
          assert.equal(s.tasks, Number(kernelFile(cg, 'pids.current')));
          assert.equal(s.tasksLimit, Number(kernelFile(cg, 'pids.max')));
          assert.equal(s.tasksLimit, 50);
          assert.equal(s.memoryLimitBytes, 64 * MI);
          assert.equal(s.memoryLimitBytes, Number(kernelFile(cg, v2 ? 'memory.max' : 'memory.limit_in_bytes')));
          const usage = Number(kernelFile(cg, v2 ? 'memory.current' : 'memory.usage_in_bytes'));
          // Two reads of a live counter: memcg charges in per-CPU batches of 64 pages (256 KiB on each CPU).
          const slack = 256 * 1024 * os.cpus().length;
          assert.ok(Math.abs(s.memoryUsageBytes! - usage) <= slack, `memory ${s.memoryUsageBytes} vs ${usage}`);
          assert.ok(s.memoryWorkingSetBytes! <= s.memoryUsageBytes! && s.memoryRssBytes! > 0);
          assert.equal(s.cpuQuotaSeconds, 0.15);
          assert.equal(s.cpuPeriodSeconds, 0.1);
          assert.equal(s.oomKills, 0);
          assert.ok(s.cpuUsageSeconds! > 0 && s.cpuUserSeconds !== null && s.cpuSystemSeconds !== null);
          assert.ok(s.cpuThrottledSeconds !== null);
          // Pressure: the v2 tree has it (hybrid too); only a pure v1 host has none.
          const psi = [s.pressureCpuSeconds, s.pressureMemorySeconds, s.pressureIoSeconds];
          if (detectLayout().unified) assert.ok(psi.every((v) => v !== null && v >= 0), String(psi));
          else assert.deepEqual(psi, [null, null, null]);
        },
      );
    } finally {
      await pool.close();
    }
  });
});
