// The v2 driver against a fixture tree laid out as the kernel does: the exact files it writes and what it reads back.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import type { Layout } from '../../src/cgroup/detect';
import { CgroupError } from '../../src/cgroup/files';
import { vacateAndEnable, V2Driver } from '../../src/cgroup/v2';
import { statsOf } from '../../src/workers/cgroup-stats';

const tree = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'cgroup', 'v2-tree');
const MI = 1024 * 1024;

describe('cgroup: v2 driver on a fixture tree', () => {
  let mount: string;
  let layout: Layout;
  const read = (rel: string) => fs.readFileSync(path.join(mount, rel), 'utf8');

  beforeEach(() => {
    mount = fs.mkdtempSync(path.join(os.tmpdir(), 'nsvisor-v2-tree-'));
    fs.cpSync(tree, mount, { recursive: true });
    layout = { kind: 'v2', unified: mount, v1: {}, self: { '': '/' } };
  });
  afterEach(() => fs.rmSync(mount, { recursive: true, force: true }));

  it('hands cpu, memory and pids down from the root, and only those the parent offers', () => {
    new V2Driver(layout, { mount, root: '/nsvisor' });
    assert.equal(read('nsvisor/cgroup.subtree_control'), '+cpu +memory +pids');
    fs.writeFileSync(path.join(mount, 'nsvisor/cgroup.subtree_control'), 'cpu memory pids\n');
    new V2Driver(layout, { mount, root: '/nsvisor' });
    assert.equal(read('nsvisor/cgroup.subtree_control'), 'cpu memory pids\n', 'nothing written when all are enabled');
    fs.writeFileSync(path.join(mount, 'nsvisor/cgroup.controllers'), 'io memory pids\n');
    fs.writeFileSync(path.join(mount, 'nsvisor/cgroup.subtree_control'), '\n');
    new V2Driver(layout, { mount, root: '/nsvisor' });
    assert.equal(read('nsvisor/cgroup.subtree_control'), '+memory +pids');
  });

  it('writes each limit to its file with the kernel\'s syntax', () => {
    const d = new V2Driver(layout, { mount, root: '/nsvisor' });
    const h = d.create('web', { memory: 256 * MI, memoryHigh: 200 * MI, cpus: 0.5, cpuWeight: 300, pids: 128 });
    assert.equal(read('nsvisor/web/memory.max'), '268435456');
    assert.equal(read('nsvisor/web/memory.swap.max'), '0');
    assert.equal(read('nsvisor/web/memory.high'), '209715200');
    assert.equal(read('nsvisor/web/cpu.max'), '50000 100000');
    assert.equal(read('nsvisor/web/cpu.weight'), '300');
    assert.equal(read('nsvisor/web/pids.max'), '128');
    assert.equal(h.path, '/nsvisor/web');
    assert.deepEqual(h.placement, { cloneInto: path.join(mount, 'nsvisor/web'), procsFiles: [] });
  });

  it('leaves the kernel defaults alone for limits not set', () => {
    new V2Driver(layout, { mount, root: '/nsvisor' }).create('web', { pids: 5 });
    assert.equal(read('nsvisor/web/memory.max'), 'max\n');
    assert.equal(read('nsvisor/web/cpu.max'), 'max 100000\n');
  });

  it('refuses a limit whose controller the parent does not hand down, naming the file', () => {
    fs.writeFileSync(path.join(mount, 'nsvisor/web/cgroup.controllers'), 'memory pids\n');
    const d = new V2Driver(layout, { mount, root: '/nsvisor' });
    assert.throws(() => d.create('web', { cpus: 1 }), /\/nsvisor\/cgroup\.subtree_control: the cpu controller is not enabled for .*\/nsvisor\/web/);
  });

  it('kills through cgroup.kill and waits for populated 0', async () => {
    const h = new V2Driver(layout, { mount, root: '/nsvisor' }).open('web');
    await h.kill();
    assert.equal(read('nsvisor/web/cgroup.kill'), '1');
  });

  it('freezes through cgroup.freeze and waits for the kernel to say frozen', async () => {
    const h = new V2Driver(layout, { mount, root: '/nsvisor' }).open('web');
    const kernel = setTimeout(() => fs.writeFileSync(path.join(mount, 'nsvisor/web/cgroup.events'), 'populated 1\nfrozen 1\n'), 50);
    await h.freeze();
    clearTimeout(kernel);
    assert.equal(read('nsvisor/web/cgroup.freeze'), '1');
    h.thaw();
    assert.equal(read('nsvisor/web/cgroup.freeze'), '0');
  });

  it('reads stats and the OOM count from the tree', () => {
    const h = new V2Driver(layout, { mount, root: '/nsvisor' }).open('web');
    const s = statsOf(h.statsTarget);
    assert.equal(s.tasks, 5);
    assert.equal(s.memoryUsageBytes, 2228224);
    assert.equal(s.cpuUsageSeconds, 0.667596);
    assert.equal(h.oomKills(), 0);
    fs.writeFileSync(path.join(mount, 'nsvisor/web/memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n');
    assert.equal(h.oomKills(), 1);
  });

  it('"self" moves us into a leaf before handing controllers down (no internal processes)', () => {
    fs.mkdirSync(path.join(mount, 'svc'));
    fs.writeFileSync(path.join(mount, 'svc/cgroup.procs'), `${process.pid}\n`);
    fs.writeFileSync(path.join(mount, 'svc/cgroup.controllers'), 'cpu memory pids\n');
    fs.writeFileSync(path.join(mount, 'svc/cgroup.subtree_control'), '');
    const d = new V2Driver({ ...layout, self: { '': '/svc' } }, { mount, root: 'self' });
    assert.equal(read('svc/supervisor/cgroup.procs'), String(process.pid));
    assert.equal(read('svc/cgroup.subtree_control'), '+cpu +memory +pids');
    assert.equal(d.rootPath, '/svc');
    assert.deepEqual(d.list(), []);
    assert.throws(() => d.open('supervisor'), /reserved for the supervisor/);
  });

  it('"self" in a container\'s own cgroup mounted at the mount point: finds it there and writes nothing below it twice', () => {
    fs.writeFileSync(path.join(mount, 'cgroup.procs'), `${process.pid}\n`);
    fs.writeFileSync(path.join(mount, 'cgroup.events'), 'populated 1\nfrozen 0\n');
    fs.writeFileSync(path.join(mount, 'cgroup.subtree_control'), '');
    const ctr = '/machine.slice/libpod-1';
    const d = new V2Driver({ ...layout, self: { '': ctr }, mountRoots: { '': ctr } }, { mount, root: 'self' });
    assert.equal(d.rootPath, ctr);
    assert.equal(read('supervisor/cgroup.procs'), String(process.pid));
    assert.equal(read('cgroup.subtree_control'), '+cpu +memory +pids');
    assert.equal(d.open('web').path, `${ctr}/web`);
    assert.equal(d.open('web').dir, path.join(mount, 'web'));
    assert.equal(fs.existsSync(path.join(mount, 'machine.slice')), false);
  });
});

describe('cgroup: v2 "self" root emptied before controllers are handed down', () => {
  const busy = () => new CgroupError('cgroup.subtree_control: write "+cpu": Device or resource busy', 'EBUSY');

  /** A cgroup as the kernel keeps it: enabling fails while a process is in it; `arrivals` come in after each round of moves. */
  function kernel(initial: number[], arrivals: number[][]) {
    const procs = new Set(initial);
    const moved: number[] = [];
    let rounds = 0;
    return {
      moved,
      ops: {
        pids: () => [...procs],
        move: (pid: number) => {
          procs.delete(pid);
          moved.push(pid);
        },
        enable: () => {
          for (const pid of arrivals[rounds++] ?? []) procs.add(pid);
          if (procs.size) throw busy();
        },
      },
    };
  }

  it('moves every process, ours and the runtime\'s, and those that arrive meanwhile (podman exec)', () => {
    const k = kernel([1, 40], [[41], [42, 43]]);
    vacateAndEnable(k.ops);
    assert.deepEqual(k.moved, [1, 40, 41, 42, 43]);
  });

  it('gives the kernel\'s EBUSY after the last round, and any other error at once', () => {
    const k = kernel([1], Array.from({ length: 10 }, (_, i) => [100 + i]));
    assert.throws(() => vacateAndEnable(k.ops, 3), /Device or resource busy/);
    assert.deepEqual(k.moved, [1, 100, 101]);
    let calls = 0;
    const denied = { pids: () => [], move: () => undefined, enable: () => { calls++; throw new CgroupError('x: Permission denied', 'EACCES'); } };
    assert.throws(() => vacateAndEnable(denied), /Permission denied/);
    assert.equal(calls, 1);
  });
});
