// The driver of this host's layout on the real kernel: placement before the first instruction, kill, destroy, stale cleanup.
import { strict as assert } from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { CgroupError, CgroupHandle, openCgroups } from '../../src/cgroup';
import { detectLayout } from '../../src/cgroup/detect';
import { parseProcCgroup } from '../../src/cgroup/detect';
import { V1Driver } from '../../src/cgroup/v1';
import { statsOf } from '../../src/workers/cgroup-stats';
import { sandbox } from '../../src';
import { alive, requireRoot, waitFor, withSandbox } from './helpers';
import { isV2, kernelFile, removeTestRoot, rootDirs, testRoot } from './cgroup-helpers';

const MI = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const devNull = fs.openSync('/dev/null', 'r+');

/** Runs a sandbox with stdout into a file; returns what it printed and the result. */
async function output(opts: Parameters<typeof sandbox>[0]): Promise<{ out: string; reason: string; cg: CgroupHandle }> {
  const file = path.join(os.tmpdir(), `nsvisor-cg-out-${process.pid}-${Date.now()}`);
  const fd = fs.openSync(file, 'w+');
  let cg!: CgroupHandle;
  try {
    const r = await sandbox({ ...opts, stdio: [devNull, fd, fd], onCgroup: (h) => (cg = h) });
    return { out: fs.readFileSync(file, 'utf8'), reason: r.reason, cg };
  } finally {
    fs.closeSync(fd);
    fs.unlinkSync(file);
  }
}

describe(`cgroups: the ${detectLayout().kind} driver on the real kernel`, function () {
  this.timeout(120_000);
  const root = testRoot();
  before(requireRoot);
  after(() => removeTestRoot(root));

  it('creates <root>/<name> in every hierarchy with the limits in the kernel\'s files', async () => {
    const h = openCgroups({ root }).create('web', { memory: 48 * MI, cpus: 0.25, cpuWeight: 50, pids: 7 });
    try {
      assert.equal(h.path, `${root}/web`);
      for (const d of h.dirs) assert.ok(fs.statSync(d).isDirectory(), d);
      assert.equal(kernelFile(h, 'pids.max'), '7');
      if (isV2()) {
        assert.equal(kernelFile(h, 'memory.max'), String(48 * MI));
        assert.equal(kernelFile(h, 'cpu.max'), '25000 100000');
        assert.equal(kernelFile(h, 'cpu.weight'), '50');
      } else {
        assert.equal(kernelFile(h, 'memory.limit_in_bytes'), String(48 * MI));
        assert.equal(kernelFile(h, 'cpu.cfs_quota_us'), '25000');
        assert.equal(kernelFile(h, 'cpu.cfs_period_us'), '100000');
        assert.equal(kernelFile(h, 'cpu.shares'), '512');
      }
    } finally {
      await h.destroy();
    }
    assert.ok(h.dirs.every((d) => !fs.existsSync(d)), 'destroy removes it everywhere');
  });

  it('the first instruction already runs in the service cgroup, in every hierarchy', async () => {
    // No cgroup namespace: the command sees the full path of where it was started.
    const { out, cg } = await output({ command: ['cat', '/proc/self/cgroup'], isolate: ['pid', 'mount'], resources: { pids: 10 }, cgroupRoot: root });
    const seen = parseProcCgroup(out);
    const l = detectLayout();
    if (l.unified) assert.equal(seen[''], cg.path);
    for (const c of Object.keys(l.v1)) assert.equal(seen[c], cg.path, `${c}: ${out}`);
  });

  it('with a cgroup namespace the service sees 0::/ while the host sees it in the service cgroup', async () => {
    let cg!: CgroupHandle;
    const file = path.join(os.tmpdir(), `nsvisor-cg-ns-${process.pid}`);
    const fd = fs.openSync(file, 'w+');
    try {
      await withSandbox({ command: ['sh', '-c', 'cat /proc/self/cgroup; exec sleep 60'], resources: { memory: 64 * MI }, cgroupRoot: root, stdio: [devNull, fd, fd], onCgroup: (h) => (cg = h) }, async (proc) => {
        const inside = await waitFor('the output', () => fs.readFileSync(file, 'utf8').includes('0::') && fs.readFileSync(file, 'utf8'));
        for (const [, p] of Object.entries(parseProcCgroup(inside)).filter(([k]) => k === '' || k in detectLayout().v1)) assert.equal(p, '/', inside);
        const host = parseProcCgroup(fs.readFileSync(`/proc/${proc.pid}/cgroup`, 'utf8'));
        const l = detectLayout();
        if (l.unified) assert.equal(host[''], cg.path);
        if (l.v1.memory) assert.equal(host.memory, cg.path);
        assert.ok(cg.pids().includes(proc.pid), 'cgroup.procs lists nsvisor-init');
      });
    } finally {
      fs.closeSync(fd);
      fs.unlinkSync(file);
    }
  });

  it('kill() ends every process in the cgroup, however deep, and leaves the cgroup empty', async () => {
    let cg!: CgroupHandle;
    await withSandbox({ command: ['sh', '-c', '(sleep 100 & sleep 100 &) ; setsid sleep 100 & wait'], resources: { pids: 20 }, cgroupRoot: root, onCgroup: (h) => (cg = h) }, async (proc) => {
      await waitFor('init, sh and 3 sleeps', () => cg.pids().length >= 5);
      const pids = cg.pids();
      await cg.kill();
      assert.deepEqual(cg.pids(), []);
      for (const pid of pids) assert.ok(!alive(pid), `pid ${pid} survived`);
      await waitFor('init to be reaped', () => !alive(proc.pid));
    });
  });

  it('freeze() stops every process until thaw()', async () => {
    let cg!: CgroupHandle;
    const cpu = () => statsOf(cg.statsTarget).cpuUsageSeconds!;
    await withSandbox({ command: ['sh', '-c', 'while :; do :; done'], resources: { pids: 5 }, cgroupRoot: root, onCgroup: (h) => (cg = h) }, async () => {
      await cg.freeze();
      const frozenAt = cpu();
      await sleep(300);
      assert.ok(cpu() - frozenAt < 0.01, `it ran ${cpu() - frozenAt} s while frozen`);
      cg.thaw();
      await waitFor('it to run again', () => cpu() - frozenAt > 0.05);
    });
  });

  it('a limit the kernel refuses is an error naming the file and the value', async () => {
    const d = openCgroups({ root });
    if (isV2()) {
      // A root whose parent (made by mkdir -p, never given controllers) hands none down: no cpu controller there.
      const inner = openCgroups({ root: `${root}-bare/inner` });
      try {
        assert.throws(() => inner.create('x', { cpus: 1 }), (e: Error) => e instanceof CgroupError && /-bare\/inner\/cgroup\.subtree_control: the cpu controller is not enabled/.test(e.message));
      } finally {
        await removeTestRoot(`${root}-bare`);
      }
      return;
    }
    // v1: a memory limit below what the cgroup already holds cannot be reclaimed down to.
    let cg!: CgroupHandle;
    const hog = [process.execPath, '-e', 'globalThis.keep = Buffer.alloc(48 << 20, 1); setInterval(() => {}, 1000)'];
    await withSandbox({ command: hog, resources: { memory: 160 * MI }, cgroupRoot: root, onCgroup: (h) => (cg = h) }, async () => {
      await waitFor('the hog', () => Number(kernelFile(cg, 'memory.usage_in_bytes')) > 48 * MI);
      assert.throws(() => cg.setLimits({ memory: 1 * MI }), /memory\.limit_in_bytes: write "1048576": Device or resource busy/);
    });
    assert.throws(() => d.create('v1-high', { memoryHigh: MI }), /memory\.high exists only on cgroup v2/);
  });

  it('a new driver removes the stale cgroups of its root, killing what runs in them', async () => {
    const stale = `${root}-stale`;
    const a = openCgroups({ root: stale }).create('a', { pids: 10 });
    openCgroups({ root: stale }).create('b', {});
    const child = spawn('sleep', ['100'], { stdio: 'ignore' });
    try {
      for (const f of a.placement.procsFiles) fs.writeFileSync(f, String(child.pid));
      if (a.placement.cloneInto) fs.writeFileSync(`${a.placement.cloneInto}/cgroup.procs`, String(child.pid));
      assert.deepEqual(a.pids(), [child.pid]);
      const exited = new Promise((r) => child.on('exit', r));
      const removed = await openCgroups({ root: stale }).cleanupStale();
      assert.deepEqual(removed.sort(), ['a', 'b']);
      await exited;
      assert.equal(child.signalCode, 'SIGKILL');
      for (const d of rootDirs(stale)) assert.deepEqual(fs.readdirSync(d).filter((n) => fs.statSync(`${d}/${n}`).isDirectory()), [], d);
    } finally {
      child.kill('SIGKILL');
      await removeTestRoot(stale);
    }
  });

  it('destroy() of an empty cgroup removes it everywhere; of one a process is in below a sub-cgroup, kills it first', async () => {
    const d = openCgroups({ root });
    const empty = d.create('idle', { pids: 5 });
    await empty.destroy();
    assert.ok(empty.dirs.every((dir) => !fs.existsSync(dir)), 'an empty cgroup goes at once');
    const h = d.create('nested', { pids: 10 });
    const child = spawn('sleep', ['100'], { stdio: 'ignore' });
    try {
      for (const dir of h.dirs) {
        fs.mkdirSync(`${dir}/inner`);
        fs.writeFileSync(`${dir}/inner/cgroup.procs`, String(child.pid));
      }
      const exited = new Promise((r) => child.on('exit', r));
      await h.destroy();
      await exited;
      assert.equal(child.signalCode, 'SIGKILL');
      assert.ok(h.dirs.every((dir) => !fs.existsSync(dir)), 'the cgroup and its sub-cgroup are gone everywhere');
      assert.ok(!d.list().includes('nested'));
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('leaves no cgroup behind: every sandbox cgroup is gone once it has ended', () => {
    for (const d of rootDirs(root)) {
      const left = fs.existsSync(d) ? fs.readdirSync(d).filter((n) => fs.statSync(`${d}/${n}`).isDirectory()) : [];
      assert.deepEqual(left, [], d);
    }
  });
});

describe('cgroups: the pure v1 driver (freezer kill, cgroup.procs placement) on the real kernel; skipped where the kernel has no v1 hierarchy (pure v2)', function () {
  this.timeout(60_000);
  const root = testRoot();
  const layout = detectLayout();
  before(function () {
    requireRoot();
    if (Object.keys(layout.v1).length === 0) this.skip(); // pure v2 kernel (v2vm): no v1 hierarchy to drive
  });
  after(async () => {
    if (Object.keys(layout.v1).length) await new V1Driver({ ...layout, kind: 'v1', unified: null }, { root, prepare: false }).removeRoot();
  });

  it('kills a forking process tree through the freezer and removes the cgroup', async () => {
    const d = new V1Driver({ ...layout, kind: 'v1', unified: null }, { root });
    const h = d.create('tree', { pids: 20, memory: 64 * MI });
    assert.equal(h.placement.cloneInto, null);
    const child = spawn('sh', ['-c', 'read go; (while :; do sleep 0.01 & wait; done) & sleep 100 & wait'], { stdio: ['pipe', 'ignore', 'ignore'] });
    for (const f of h.placement.procsFiles) fs.writeFileSync(f, String(child.pid));
    child.stdin!.write('go\n');
    await waitFor('the tree', () => h.pids().length >= 3);
    const exited = new Promise((r) => child.on('exit', r));
    await h.destroy();
    await exited;
    assert.equal(child.signalCode, 'SIGKILL');
    assert.ok(h.dirs.every((dir) => !fs.existsSync(dir)));
    assert.deepEqual(d.list(), []);
  });
});
