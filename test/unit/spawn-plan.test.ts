// Unit tests of turning isolation settings into the native spawn request (flags, mounts, ids, init arguments).
import { strict as assert } from 'assert';

import { isolationSchema, IsolationInput } from '../../src/config/isolation';
import { CLONE, createKinds, mountKinds, MS, timeModes } from '../../src/native';
import { buildSpawnPlan, kernelIdMap, mapsRoot, PathKind, SpecContext, SpecError } from '../../src/spawn-plan/plan';

const files: Record<string, PathKind> = {
  '/srv/root': 'dir',
  '/data': 'dir',
  '/etc/resolv.conf': 'file',
  '/mnt': 'dir',
  '/dev/null': 'other',
  '/dev/zero': 'other',
};

function ctx(over: Partial<SpecContext> = {}): SpecContext {
  return {
    name: 'web',
    baseEnv: { HOME: '/root' },
    defaultCwd: '/home/me',
    uid: 0,
    gid: 0,
    subordinateBase: () => 100000,
    mapRoot: false,
    initPath: '/opt/nsvisor-init',
    stdio: [0, 1, 2],
    passFds: [],
    newSession: false,
    probe: (p) => files[p] ?? null,
    cgroupMounts: [{ fsType: 'cgroup2', mountPoint: '/sys/fs/cgroup', subsystems: [] }],
    ...over,
  };
}

const plan = (input: Omit<IsolationInput, 'command'> & { command?: string[] }, c = ctx()) =>
  buildSpawnPlan(isolationSchema.parse({ command: ['/bin/app', '--flag'], ...input }), c);

describe('spawn spec: namespaces and flags', () => {
  it('defaults to pid, mount, uts, ipc and cgroup', () => {
    const p = plan({});
    assert.deepEqual(p.namespaces, ['cgroup', 'ipc', 'mount', 'pid', 'uts']);
    assert.equal(p.request.cloneFlags, CLONE.NEWPID | CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC);
    assert.equal(p.request.unshareCgroup, true, 'the cgroup namespace is made after placement, not at clone');
    assert.equal(p.request.unshareTime, false);
    assert.equal(p.request.propagation, MS.PRIVATE);
    assert.equal(p.request.hostname, 'web', 'the service name is the default hostname');
    assert.equal(p.idMaps, null);
  });

  it('time offsets bring a time namespace; user settings bring a user namespace', () => {
    const p = plan({ isolate: ['pid'], time: { boottime: '-1h', monotonic: 'fromZero' }, userns: 'auto' });
    assert.deepEqual(p.namespaces, ['pid', 'time', 'user']);
    assert.equal(p.request.cloneFlags, CLONE.NEWPID | CLONE.NEWUSER);
    assert.deepEqual(p.request.boottime, { mode: timeModes.offset, sec: -3600, nsec: 0 });
    assert.deepEqual(p.request.monotonic, { mode: timeModes.fromZero, sec: 0, nsec: 0 });
  });

  it('net brings lo up; no mount namespace means no mounts and no propagation change', () => {
    const p = plan({ isolate: ['net', 'uts'] });
    assert.equal(p.request.loopbackUp, true);
    assert.deepEqual(p.request.mounts, []);
    assert.equal(p.request.propagation, 0);
  });

  it('refuses settings whose namespace is not isolated, naming the key', () => {
    assert.throws(() => plan({ isolate: ['pid'], hostname: 'x' }), new SpecError('hostname', 'requires "uts" in isolate'));
    assert.throws(() => plan({ isolate: ['pid'], rootfs: '/srv/root' }), /^Error: rootfs: requires "mount" in isolate$/);
    assert.throws(() => plan({ isolate: ['uts'], mounts: [{ type: 'tmpfs', target: '/mnt' }] }), /mounts: requires "mount"/);
    assert.throws(() => plan({ rootfs: '/srv/missing' }), /rootfs: \/srv\/missing is not a directory/);
  });
});

describe('spawn spec: mounts', () => {
  it('on the host root (privileged): proc for the pid namespace, targets must exist, nothing is created', () => {
    const p = plan({ privileged: true, mounts: [{ type: 'bind', source: '/data', target: '/mnt', readonly: true }] });
    assert.deepEqual(p.request.mounts, [
      { kind: mountKinds.proc, source: null, target: '/proc', data: null, readonly: false, create: createKinds.never, keepWritable: true },
      { kind: mountKinds.bind, source: '/data', target: '/mnt', data: null, readonly: true, create: createKinds.never, keepWritable: false },
    ]);
    assert.deepEqual(p.mountTargets, ['/proc', '/mnt']);
    assert.throws(() => plan({ mounts: [{ type: 'tmpfs', target: '/nope' }] }), /mounts\[0\]\.target: \/nope does not exist/);
    assert.throws(() => plan({ mounts: [{ type: 'bind', source: '/gone', target: '/mnt' }] }), /mounts\[0\]\.source: \/gone does not exist/);
  });

  it('under a rootfs (privileged): targets prefixed and created, a /dev of its own, mqueue for ipc', () => {
    const p = plan({
      privileged: true,
      rootfs: '/srv/root',
      readonlyRoot: true,
      mounts: [
        { type: 'bind', source: '/etc/resolv.conf', target: '/etc/resolv.conf', readonly: true },
        { type: 'tmpfs', target: '/tmp', size: '64Mi' },
      ],
    });
    const m = p.request.mounts;
    const devLinks = ['/dev/fd', '/dev/stdin', '/dev/stdout', '/dev/stderr'];
    assert.deepEqual(p.mountTargets, ['/proc', '/dev', '/dev/null', '/dev/zero', ...devLinks, '/dev/shm', '/dev/pts', '/dev/mqueue', '/etc/resolv.conf', '/tmp']);
    assert.equal(m[0].target, '/srv/root/proc');
    assert.deepEqual(m[1], { kind: mountKinds.tmpfs, source: null, target: '/srv/root/dev', data: 'mode=0755', readonly: false, create: createKinds.directory, keepWritable: true });
    assert.deepEqual(m[2], { kind: mountKinds.carry, source: '/dev/null', target: '/dev/null', data: null, readonly: false, create: createKinds.file }, 'carried in: no rootfs or rootfs alike');
    assert.deepEqual(m[4], { kind: mountKinds.symlink, source: '/proc/self/fd', target: '/srv/root/dev/fd', data: null, readonly: false, create: createKinds.never });
    assert.deepEqual(m[9], { kind: mountKinds.devpts, source: '/srv/root/dev/ptmx', target: '/srv/root/dev/pts', data: 'newinstance,ptmxmode=0666,mode=0620', readonly: false, create: createKinds.directory, keepWritable: true });
    assert.equal(m[10].kind, mountKinds.mqueue);
    assert.equal(m[11].create, createKinds.file, 'a file bind gets an empty file as its target');
    assert.deepEqual(m[12], { kind: mountKinds.tmpfs, source: null, target: '/srv/root/tmp', data: `mode=1777,size=${64 * 2 ** 20}`, readonly: false, create: createKinds.directory, keepWritable: true });
    assert.equal(p.request.rootfs, '/srv/root');
    assert.equal(p.request.readonlyRoot, true);
    assert.equal(p.request.cwd, '/', 'a new root starts at /');
  });

  it('a network namespace gets a sysfs of its own (privileged: the host cgroup mounts carried under it); a rootfs only if it has /sys', () => {
    const sysfs = { kind: mountKinds.sysfs, source: '/sys/fs/cgroup', target: '/sys', data: '/sys/fs/cgroup', readonly: false, create: createKinds.never };
    const open = { privileged: true };
    assert.deepEqual(plan({ ...open, isolate: ['pid', 'mount', 'net'] }).request.mounts[1], sysfs);
    assert.ok(!plan({ ...open, isolate: ['pid', 'mount'] }).request.mounts.some((m) => m.kind === mountKinds.sysfs), 'not without net');
    assert.ok(plan({ ...open, isolate: ['mount', 'net'] }).mountTargets.includes('/sys'), 'without a pid namespace too');
    const withSys = plan({ ...open, isolate: ['pid', 'mount', 'net'], rootfs: '/srv/root' }, ctx({ probe: (p) => (p === '/srv/root/sys' ? 'dir' : files[p] ?? null) }));
    assert.deepEqual(withSys.request.mounts[1], { ...sysfs, target: '/srv/root/sys', data: '/srv/root/sys/fs/cgroup' });
    assert.ok(!plan({ ...open, isolate: ['pid', 'mount', 'net'], rootfs: '/srv/root' }).mountTargets.includes('/sys'), 'a rootfs without /sys gets none');
  });

  it('a declared proc or /dev replaces the automatic one', () => {
    const p = plan({ privileged: true, rootfs: '/srv/root', mounts: [{ type: 'proc', target: '/proc' }, { type: 'tmpfs', target: '/dev' }] });
    assert.deepEqual(p.mountTargets, ['/proc', '/dev']);
  });
});

describe('spawn spec: the hardened view of every service that is not privileged', () => {
  const host: Record<string, PathKind> = {
    ...files, '/proc/kcore': 'file', '/proc/keys': 'file', '/proc/acpi': 'dir', '/proc/sys': 'dir', '/proc/sysrq-trigger': 'file',
    '/sys': 'dir', '/sys/firmware': 'dir', '/dev/fuse': 'other', '/dev/net/tun': 'other',
  };
  const hybrid = [
    { fsType: 'cgroup2' as const, mountPoint: '/sys/fs/cgroup/unified', subsystems: [] },
    { fsType: 'cgroup' as const, mountPoint: '/sys/fs/cgroup/memory', subsystems: ['memory'] },
    { fsType: 'cgroup' as const, mountPoint: '/sys/fs/cgroup/cpu,cpuacct', subsystems: ['cpu', 'cpuacct'] },
  ];
  const on = (over: Partial<SpecContext> = {}) => ctx({ probe: (p) => host[p] ?? null, ...over });
  const byTarget = (p: ReturnType<typeof plan>) => new Map(p.request.mounts.map((m, i) => [p.mountTargets[i], m]));

  it('/proc: the sensitive files masked with /dev/null, hardware directories with an empty tmpfs, the tunables read-only', () => {
    const m = byTarget(plan({}, on()));
    assert.deepEqual(m.get('/proc/kcore'), { kind: mountKinds.bind, source: '/dev/null', target: '/proc/kcore', data: null, readonly: true, create: createKinds.never });
    assert.deepEqual(m.get('/proc/acpi'), { kind: mountKinds.tmpfs, source: null, target: '/proc/acpi', data: 'mode=0555,size=0', readonly: true, create: createKinds.never });
    assert.deepEqual(m.get('/proc/sys'), { kind: mountKinds.bind, source: '/proc/sys', target: '/proc/sys', data: null, readonly: true, create: createKinds.never });
    assert.ok(m.has('/proc/sysrq-trigger') && m.has('/proc/keys'));
    assert.ok(!m.has('/proc/timer_list'), 'only what this kernel has');
  });

  it('/sys read-only with /sys/firmware masked, and in /sys/fs/cgroup only its own cgroup, read-only (v2 and hybrid)', () => {
    const v2 = plan({}, on());
    const m = byTarget(v2);
    assert.deepEqual(m.get('/sys'), { kind: mountKinds.bind, source: '/sys', target: '/sys', data: null, readonly: true, create: createKinds.never });
    assert.equal(m.get('/sys/firmware')?.readonly, true);
    const cgroupMounts = (p: ReturnType<typeof plan>) => p.request.mounts.filter((_, i) => p.mountTargets[i].startsWith('/sys/fs/cgroup'));
    assert.deepEqual(cgroupMounts(v2), [
      { kind: mountKinds.tmpfs, source: null, target: '/sys/fs/cgroup', data: 'mode=0755', readonly: false, create: createKinds.never },
      { kind: mountKinds.fs, source: 'cgroup2', target: '/sys/fs/cgroup', data: null, readonly: true, create: createKinds.never },
    ], 'a tmpfs between the host cgroup2 carried with /sys and the fresh one (the kernel refuses one on its own root)');
    const h = plan({}, on({ cgroupMounts: hybrid }));
    const cg = cgroupMounts(h);
    assert.deepEqual(cg.map((x) => [x.kind, x.source, x.target, x.data, x.readonly]), [
      [mountKinds.tmpfs, null, '/sys/fs/cgroup', 'mode=0755', false],
      [mountKinds.fs, 'cgroup2', '/sys/fs/cgroup/unified', null, true],
      [mountKinds.fs, 'cgroup', '/sys/fs/cgroup/memory', 'memory', true],
      [mountKinds.fs, 'cgroup', '/sys/fs/cgroup/cpu,cpuacct', 'cpu,cpuacct', true],
      [mountKinds.bind, '/sys/fs/cgroup', '/sys/fs/cgroup', null, true],
    ], 'a tmpfs with each hierarchy (as the cgroup namespace shows it), then all of it read-only');
    const net = byTarget(plan({ isolate: ['pid', 'mount', 'net', 'cgroup'] }, on()));
    assert.deepEqual(net.get('/sys'), { kind: mountKinds.sysfs, source: '', target: '/sys', data: '/sys/fs/cgroup', readonly: true, create: createKinds.never }, 'a fresh sysfs, no host cgroup mounts carried');
    assert.equal(net.get('/sys/fs/cgroup')?.kind, mountKinds.fs);
    // Without a cgroup namespace a fresh cgroup mount would show the whole tree: the host's, read-only, instead.
    const shared = byTarget(plan({ isolate: ['pid', 'mount', 'net'] }, on()));
    assert.deepEqual(shared.get('/sys'), { kind: mountKinds.sysfs, source: '/sys/fs/cgroup', target: '/sys', data: '/sys/fs/cgroup', readonly: true, create: createKinds.never });
    assert.ok(!shared.has('/sys/fs/cgroup'));
  });

  it('a /dev of its own on the host root too, with the devices asked for; privileged keeps the host /dev', () => {
    const p = plan({ devices: ['/dev/fuse', '/dev/net/tun'] }, on());
    const dev = p.mountTargets.filter((t) => t === '/dev' || t.startsWith('/dev/'));
    assert.deepEqual(dev, ['/dev', '/dev/null', '/dev/zero', '/dev/fuse', '/dev/net/tun', '/dev/fd', '/dev/stdin', '/dev/stdout', '/dev/stderr', '/dev/shm', '/dev/pts', '/dev/mqueue']);
    assert.equal(byTarget(p).get('/dev/fuse')?.kind, mountKinds.carry, 'carried: the tmpfs covers the host /dev it comes from');
    assert.ok(!plan({ privileged: true }, on()).mountTargets.some((t) => t.startsWith('/dev')));
    assert.ok(!plan({ privileged: true }, on()).mountTargets.some((t) => t.startsWith('/sys') || t.startsWith('/proc/')));
  });

  it('readonlyRoot: the mounts of its own that are writable stay so; the masks and /sys do not', () => {
    const p = plan({ readonlyRoot: true, mounts: [{ type: 'tmpfs', target: '/mnt' }] }, on());
    const kept = p.mountTargets.filter((_, i) => p.request.mounts[i].keepWritable);
    assert.deepEqual(kept, ['/proc', '/dev', '/dev/shm', '/dev/pts', '/dev/mqueue', '/mnt']);
  });
});

describe('spawn spec: ids, environment and init arguments', () => {
  it('maps an unprivileged caller to root with setgroups denied', () => {
    const p = plan({ isolate: ['user', 'pid'] }, ctx({ uid: 1000, gid: 1000 }));
    assert.deepEqual(p.idMaps, { uidMap: '0 1000 1\n', gidMap: '0 1000 1\n', setgroups: 'deny' });
    assert.equal(p.request.becomeRoot, true);
    assert.equal(p.request.clearGroups, false, 'setgroups is denied, so groups cannot be cleared');
  });

  it('userns auto as root takes a 65536 range from the subordinate base; explicit maps are kept', () => {
    assert.deepEqual(plan({ userns: 'auto' }, ctx({ subordinateBase: () => 200000 })).idMaps, {
      uidMap: '0 200000 65536\n', gidMap: '0 200000 65536\n', setgroups: null,
    });
    const p = plan({ userns: { uidMap: '0:100000:1000,1000:1000:1', gidMap: '1:100001:10' } });
    assert.equal(p.idMaps!.uidMap, '0 100000 1000\n1000 1000 1\n');
    assert.equal(p.request.becomeRoot, false, 'the gid map has no 0 inside');
    assert.equal(p.request.clearGroups, true);
  });

  it('reads kernel maps for whether 0 is mapped', () => {
    assert.equal(mapsRoot(kernelIdMap('0:1:1')), true);
    assert.equal(mapsRoot(kernelIdMap('1:1:5')), false);
  });

  it('lays the configured env over the base env and adds PATH', () => {
    const env = plan({ env: { PORT: '8080', HOME: '/srv' } }).request.envp;
    assert.deepEqual(env.sort(), ['HOME=/srv', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'PORT=8080']);
  });

  it('passes stop signal, drain, ids, the default capabilities, listen fds and the seccomp fd to nsvisor-init, then the command', () => {
    const p = plan({ user: '1000:100', stop: { signal: 'SIGINT', drain: '2s' } }, ctx({ passFds: [7, 8], seccompFd: 9 }));
    assert.deepEqual(p.request.argv, [
      'nsvisor-init', '--supervised', '--status-fd', '6', '--listen-fds', '2', '--seccomp-fd', '5', '--stop-signal', '2', '--drain', '2000',
      '--uid', '1000', '--gid', '100', '--caps', 'a80425fb', '--', '/bin/app', '--flag',
    ]);
    assert.deepEqual(p.request.passFds, [7, 8, 9], 'the listen sockets as 3.., the seccomp program after them');
    assert.equal(p.request.cwd, '/home/me');
    const open = plan({ privileged: true }, ctx({ seccompFd: 9 })).request.argv;
    assert.ok(!open.includes('--caps') && !open.includes('--seccomp-fd'), 'privileged: every capability, no filter');
  });

  it('with an adoption window, passes the output pipes after the seccomp fd, with the window and the stop timeout', () => {
    const p = plan({ stop: { timeout: '3s' } }, ctx({ passFds: [7], seccompFd: 9, keeper: { adoptMs: 30_000, outputFds: [11, 12] } }));
    assert.deepEqual(p.request.passFds, [7, 9, 11, 12]);
    const argv = p.request.argv;
    assert.deepEqual(argv.slice(0, 4), ['nsvisor-init', '--supervised', '--status-fd', '7'], 'the status pipe after all four');
    const at = argv.indexOf('--adopt-timeout');
    assert.deepEqual(argv.slice(at, at + 8), ['--adopt-timeout', '30000', '--stop-timeout', '3000', '--output-fd', '5', '--output-fd', '6']);
    assert.ok(!plan({}, ctx({})).request.argv.includes('--adopt-timeout'), 'no window: nsvisor-init is told nothing of it');
  });
});

describe('spawn spec: NOTIFY_SOCKET whatever the service mounts', () => {
  const socket = '/tmp/sup/notify/web.sock';
  const withSocket = (over: Partial<SpecContext> = {}) =>
    ctx({ notifySocket: socket, probe: (p) => ({ ...files, '/tmp': 'dir', '/tmp/sup': 'dir', '/run': 'dir' } as Record<string, PathKind>)[p] ?? null, ...over });
  const carried = { kind: mountKinds.carry, source: socket, target: socket, data: null, readonly: true, create: createKinds.file };
  const carries = (p: ReturnType<typeof plan>) => p.request.mounts.filter((m) => m.kind === mountKinds.carry && m.source === socket);

  it('nothing to carry where no mount hides it, also with a read-only root or without a mount namespace', () => {
    assert.deepEqual(carries(plan({ mounts: [{ type: 'tmpfs', target: '/run' }] }, withSocket())), []);
    assert.deepEqual(carries(plan({ readonlyRoot: true }, withSocket())), [], 'a read-only mount does not keep a datagram out');
    assert.deepEqual(plan({ isolate: ['pid', 'net'] }, withSocket()).request.mounts, []);
  });

  it('a tmpfs over a parent: the socket mount is carried in last, onto the same path, created there', () => {
    for (const target of ['/tmp', '/tmp/sup']) {
      const p = plan({ mounts: [{ type: 'tmpfs', target }] }, withSocket());
      assert.deepEqual(p.request.mounts.at(-1), carried, target);
      assert.equal(p.mountTargets.at(-1), socket, 'a failure on it names the socket');
    }
    const ro = plan({ readonlyRoot: true, mounts: [{ type: 'tmpfs', target: '/tmp' }] }, withSocket());
    assert.deepEqual(carries(ro), [carried]);
  });

  it('a rootfs: carried in, its target a path inside the new root, with or without a read-only root', () => {
    for (const readonlyRoot of [false, true]) {
      const p = plan({ rootfs: '/srv/root', readonlyRoot }, withSocket());
      assert.deepEqual(carries(p), [carried], 'target not prefixed: it is placed after pivot_root');
    }
  });

  it('refuses a bind of a host directory over it, naming the mount and what to do', () => {
    const bind = { type: 'bind' as const, source: '/data', target: '/tmp' };
    assert.throws(
      () => plan({ mounts: [bind] }, withSocket()),
      new SpecError('mounts[0]', 'the bind of /data on /tmp hides NOTIFY_SOCKET /tmp/sup/notify/web.sock, and nsvisor creates nothing in a host directory; mount a tmpfs on /tmp instead, or put supervisor.control outside /tmp'),
    );
    assert.throws(() => plan({ rootfs: '/srv/root', mounts: [{ type: 'tmpfs', target: '/tmp' }, { ...bind, target: '/tmp/sup' }] }, withSocket()), /^Error: mounts\[1\]: the bind of \/data on \/tmp\/sup hides/);
    assert.deepEqual(carries(plan({ mounts: [bind, { type: 'tmpfs', target: '/tmp/sup' }] }, withSocket())), [carried], 'a tmpfs on top of the bind is where it goes');
  });

  it('refuses a read-only tmpfs and a file system nothing can be created in', () => {
    assert.throws(
      () => plan({ mounts: [{ type: 'tmpfs', target: '/tmp', readonly: true }] }, withSocket()),
      new SpecError('mounts[0]', 'the read-only tmpfs on /tmp hides NOTIFY_SOCKET /tmp/sup/notify/web.sock, and nothing can be created on it; make it writable, or put supervisor.control outside /tmp'),
    );
    assert.throws(
      () => plan({ mounts: [{ type: 'proc', target: '/tmp' }] }, withSocket()),
      new SpecError('mounts[0]', 'the proc mount on /tmp hides NOTIFY_SOCKET /tmp/sup/notify/web.sock, and nothing can be created in proc; put supervisor.control outside /tmp'),
    );
    assert.throws(
      () => plan({ rootfs: '/srv/root' }, withSocket({ notifySocket: '/dev/mqueue/web.sock' })),
      new SpecError('ready.notify', 'the mqueue mount on /dev/mqueue hides NOTIFY_SOCKET /dev/mqueue/web.sock, and nothing can be created in mqueue; put supervisor.control outside /dev/mqueue'),
    );
    const shm = plan({ rootfs: '/srv/root' }, withSocket({ notifySocket: '/dev/shm/web.sock' })).request.mounts;
    assert.equal(shm.filter((m) => m.kind === mountKinds.carry && m.source === '/dev/shm/web.sock').length, 1, 'the tmpfs of a new /dev can hold it');
  });
});
