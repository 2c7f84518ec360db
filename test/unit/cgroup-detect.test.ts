// Unit tests of cgroup layout detection from mountinfo and /proc/self/cgroup texts.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';

import { layoutFrom, parseProcCgroup, selfInMount } from '../../src/cgroup/detect';
import { V1Driver } from '../../src/cgroup/v1';

const fixtures = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'cgroup');
const mountinfo = (kind: string) => fs.readFileSync(path.join(fixtures, `mountinfo-${kind}`), 'utf8');

describe('cgroup: layout detection', () => {
  it('finds the hybrid layout of this kind of host: v1 controllers and the v2 tree under unified', () => {
    const l = layoutFrom(mountinfo('hybrid'), '4:memory:/process_api/x\n1:cpu:/\n0::/\n');
    assert.equal(l.kind, 'hybrid');
    assert.equal(l.unified, '/sys/fs/cgroup/unified');
    assert.deepEqual(l.v1, {
      cpu: '/sys/fs/cgroup/cpu', cpuacct: '/sys/fs/cgroup/cpuacct', memory: '/sys/fs/cgroup/memory',
      pids: '/sys/fs/cgroup/pids', freezer: '/sys/fs/cgroup/freezer', devices: '/sys/fs/cgroup/devices',
    });
    assert.equal(l.self.memory, '/process_api/x');
    assert.equal(l.self[''], '/');
  });
  it('finds pure v2', () => {
    const l = layoutFrom(mountinfo('v2'), '0::/user.slice/app\n');
    assert.deepEqual({ kind: l.kind, unified: l.unified, v1: l.v1, self: l.self }, { kind: 'v2', unified: '/sys/fs/cgroup', v1: {}, self: { '': '/user.slice/app' } });
  });
  it('finds pure v1 with cpu and cpuacct co-mounted, ignoring the named systemd hierarchy', () => {
    const l = layoutFrom(mountinfo('v1'), '5:cpu,cpuacct:/a\n2:name=systemd:/s\n');
    assert.equal(l.kind, 'v1');
    assert.equal(l.unified, null);
    assert.equal(l.v1.cpu, '/sys/fs/cgroup/cpu,cpuacct');
    assert.equal(l.v1.cpuacct, '/sys/fs/cgroup/cpu,cpuacct');
    assert.deepEqual(parseProcCgroup('5:cpu,cpuacct:/a\n2:name=systemd:/s\n'), { cpu: '/a', cpuacct: '/a', 'name=systemd': '/s' });
  });
  it('says so when no cgroup file system is mounted', () => {
    assert.throws(() => layoutFrom('22 1 0:5 / /proc rw - proc proc rw\n', ''), /no cgroup or cgroup2 file system is mounted/);
  });
  it('inside a container without a cgroup namespace, finds our cgroup at the root of what the runtime mounted', () => {
    const ctr = '/nsvisor-test-ctr/libpod-3e8004b2';
    const procCgroup = ['memory', 'cpu', 'cpuacct', 'pids', 'freezer', 'devices'].map((c, i) => `${i + 1}:${c}:${ctr}`).join('\n');
    const l = layoutFrom(mountinfo('podman-v1'), `${procCgroup}\n0::${ctr}\n`);
    assert.equal(l.kind, 'v1');
    assert.equal(l.mountRoots!.memory, ctr);
    assert.equal(selfInMount(l, 'memory'), '/');
    assert.equal(selfInMount({ ...l, self: { ...l.self, memory: `${ctr}/supervisor` } }, 'memory'), '/supervisor');
    const d = new V1Driver(l, { root: 'self', prepare: false });
    assert.equal(d.rootPath, ctr, 'the path /proc/PID/cgroup shows');
    assert.deepEqual(d.open('web').byController.memory, '/sys/fs/cgroup/memory/web', 'the directory: below the mount, not the path again');
    assert.equal(d.open('web').path, `${ctr}/web`);
  });
  it('says which cgroup is out of reach when ours is not below the mounted part', () => {
    const l = layoutFrom(mountinfo('podman-v1'), '4:memory:/elsewhere\n');
    assert.throws(() => selfInMount(l, 'memory'), /\/proc\/self\/cgroup: our cgroup \/elsewhere \(the memory controller\) is not below \/nsvisor-test-ctr\/libpod-3e8004b2/);
    const sibling = layoutFrom(mountinfo('podman-v1'), '4:memory:/nsvisor-test-ctr/libpod-3e8004b2x\n');
    assert.throws(() => selfInMount(sibling, 'memory'), /is not below/, 'a name that only starts like the root is not below it');
  });
  it('in a cgroup namespace (v2 container) our cgroup and the mount are both its root', () => {
    const l = layoutFrom(mountinfo('podman-v2'), '0::/\n');
    assert.deepEqual({ kind: l.kind, unified: l.unified, roots: l.mountRoots }, { kind: 'v2', unified: '/sys/fs/cgroup', roots: { '': '/' } });
    assert.equal(selfInMount(l, ''), '/');
    assert.equal(selfInMount(layoutFrom(mountinfo('v2'), '0::/user.slice/app\n'), ''), '/user.slice/app', 'a host mount shows the whole tree');
  });
  it('unescapes mount points with spaces', () => {
    const l = layoutFrom('37 23 0:33 / /sys/fs/my\\040cgroup rw - cgroup2 cgroup2 rw\n', '0::/\n');
    assert.equal(l.unified, '/sys/fs/my cgroup');
  });
});
