// Unit tests of cgroup layout detection from mountinfo and /proc/self/cgroup texts.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';

import { layoutFrom, parseProcCgroup } from '../../src/cgroup/detect';

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
  it('unescapes mount points with spaces', () => {
    const l = layoutFrom('37 23 0:33 / /sys/fs/my\\040cgroup rw - cgroup2 cgroup2 rw\n', '0::/\n');
    assert.equal(l.unified, '/sys/fs/my cgroup');
  });
});
