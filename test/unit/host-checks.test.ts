// Unit tests of the host checks, family by family, as tables: a configuration, a fake host, the exact problems.
import { strict as assert } from 'assert';

import { hostProblems, HostProblem } from '../../src/config/host-checks';
import { ConfigInput, validateConfig } from '../../src/config/schema';
import { elfHead, Entry, FakeHost, FakeHostOptions } from './host-checks-fakes';

type Services = ConfigInput['services'];

/** `services` (command [/usr/bin/app] unless given) checked against a fake host: "path: message" and whether permanent. */
function check(services: Record<string, Record<string, unknown>>, host: FakeHostOptions = {}, extra: Pick<ConfigInput, 'supervisor' | 'networks'> = {}) {
  const withCommand = Object.fromEntries(Object.entries(services).map(([n, s]) => [n, { command: ['/usr/bin/app'], ...s }]));
  const config = validateConfig({
    supervisor: { control: '/run/nsvisor/nsvisor.sock', metrics: 'off', ...extra.supervisor },
    networks: extra.networks,
    services: withCommand as Services,
  });
  return hostProblems(config, new FakeHost(host)).map((p: HostProblem) => [`${p.path}: ${p.message}`, p.permanent] as const);
}

type Case = [what: string, services: Record<string, Record<string, unknown>>, host: FakeHostOptions, expected: (readonly [string, boolean])[]];

function table(cases: Case[]): void {
  for (const [what, services, host, expected] of cases) it(what, () => assert.deepEqual(check(services, host), expected));
}

const V1_MOUNTINFO = { kind: 'v1' as const, listedIn: '/proc/self/mountinfo', enableIn: null, missingParent: null };

describe('host checks: limits', () => {
  table([
    ['memoryHigh on the v1 memory controller (hybrid)', { db: { resources: { memory: '256Mi', memoryHigh: '200Mi' } } }, {}, [
      ["services.db.resources.memoryHigh: this host's memory controller is cgroup v1, which has no memory.high; remove memoryHigh (memory, the hard limit, works on v1)", true],
    ]],
    ['a v1 controller that is not mounted', { web: { resources: { pids: 64, memory: '64Mi' } } }, { cgroups: { ...V1_MOUNTINFO, controllers: ['memory', 'cpu'] } }, [
      ['services.web.resources.pids: this host has no cgroup v1 pids controller mounted (/proc/self/mountinfo), so pids cannot be set; ' +
        'mount one (mount -t cgroup -o pids cgroup /sys/fs/cgroup/pids) or remove pids', true],
    ]],
    ['a v2 controller not offered where the services go, for each key that needs it',
      { web: { resources: { cpus: 0.5, cpuWeight: 200, memoryHigh: '1Gi' } } },
      { cgroups: { kind: 'v2', controllers: ['memory', 'pids'], listedIn: '/sys/fs/cgroup/nsvisor/cgroup.controllers', enableIn: '/sys/fs/cgroup/cgroup.subtree_control', missingParent: null } }, [
        ["services.web.resources.cpus: the cpu controller is not offered to the services' cgroups under /nsvisor (/sys/fs/cgroup/nsvisor/cgroup.controllers " +
          'lists memory pids); offer it with "echo +cpu > /sys/fs/cgroup/cgroup.subtree_control" (under systemd: Delegate=yes), or remove cpus', true],
        ["services.web.resources.cpuWeight: the cpu controller is not offered to the services' cgroups under /nsvisor (/sys/fs/cgroup/nsvisor/cgroup.controllers " +
          'lists memory pids); offer it with "echo +cpu > /sys/fs/cgroup/cgroup.subtree_control" (under systemd: Delegate=yes), or remove cpuWeight', true],
      ]],
    ['memoryHigh on v2 is fine', { web: { resources: { memoryHigh: '1Gi', memory: '2Gi', pids: 10, cpus: 1 } } },
      { cgroups: { kind: 'v2', controllers: ['cpu', 'memory', 'pids'], listedIn: 'x', enableIn: 'y', missingParent: null } }, []],
    ['v2 with controllers this process cannot know (cgroupRoot "self" seen from outside the supervisor): nothing said',
      { web: { resources: { memory: '1Gi' } } }, { cgroups: { kind: 'v2', controllers: null, listedIn: '', enableIn: null, missingParent: null } }, []],
    ['v2 with a root whose parent does not exist yet', { web: { resources: { pids: 8 } } }, {
      cgroups: { kind: 'v2', controllers: [], listedIn: '/sys/fs/cgroup/a/cgroup.subtree_control', enableIn: '/sys/fs/cgroup/a/cgroup.subtree_control', missingParent: '/sys/fs/cgroup/a' },
    }, [
      ["services.web.resources.pids: the pids controller is not offered to the services' cgroups under /nsvisor: /sys/fs/cgroup/a does not exist, and the " +
        'parents nsvisor makes enable no controllers; create it and run "echo +pids > /sys/fs/cgroup/a/cgroup.subtree_control", or choose a cgroupRoot ' +
        'whose parent exists', true],
    ]],
    ['no cgroup file system at all', { web: {} }, { cgroups: null }, [
      ['supervisor.cgroupRoot: this host has no cgroup file system mounted (/proc/self/mountinfo lists none); mount cgroup2 on /sys/fs/cgroup', true],
    ]],
  ]);
});

describe('host checks: mounts, through the planner', () => {
  table([
    ['a bind source that does not exist', { web: { mounts: [{ type: 'bind', source: '/srv/nope', target: '/tmp' }] } }, {}, [
      ['services.web.mounts[0].source: /srv/nope does not exist; create it on the host or correct the path', true],
    ]],
    ['a target missing on the host without rootfs', { web: { mounts: [{ type: 'tmpfs', target: '/var/cache/app' }] } }, {}, [
      ['services.web.mounts[0].target: /var/cache/app does not exist (without rootfs nsvisor creates nothing on the host); ' +
        'create it on the host, or give the service a rootfs', true],
    ]],
    ['every bad mount at once, each at its own index, the good one between them silent', {
      web: {
        mounts: [
          { type: 'bind', source: '/srv/a', target: '/tmp' },
          { type: 'tmpfs', target: '/tmp' },
          { type: 'bind', source: '/etc/hosts', target: '/etc/nope' },
        ],
      },
    }, {}, [
      ['services.web.mounts[0].source: /srv/a does not exist; create it on the host or correct the path', true],
      ['services.web.mounts[2].target: /etc/nope does not exist (without rootfs nsvisor creates nothing on the host); create it on the host, or give the service a rootfs', true],
    ]],
    ['a rootfs that is not a directory: that is the one problem (nothing else can be judged)', { web: { rootfs: '/srv/root', mounts: [{ type: 'bind', source: '/x', target: '/y' }] } }, {}, [
      ["services.web.rootfs: /srv/root is not a directory; point rootfs at a directory holding the service's root file system", true],
    ]],
    ['a directory bound onto a file', { web: { mounts: [{ type: 'bind', source: '/run/nsvisor', target: '/etc/hosts' }] } }, {}, [
      ['services.web.mounts[0].target: /etc/hosts is not a directory but the source /run/nsvisor is a directory: a bind mount needs both to be directories or ' +
        'both not; choose a target of the same type', true],
    ]],
    ['a tmpfs on a file', { web: { mounts: [{ type: 'tmpfs', target: '/etc/hosts' }] } }, {}, [
      ['services.web.mounts[0].target: /etc/hosts is not a directory, and a tmpfs can only be mounted on one; choose a directory as target', true],
    ]],
    ['with a rootfs, missing targets are made; one below a file cannot be', {
      web: { rootfs: '/srv/root', mounts: [{ type: 'tmpfs', target: '/var/cache' }, { type: 'bind', source: '/etc/hosts', target: '/etc/hostname/x' }] },
    }, { files: { '/srv/root/usr/bin/app': { file: 'x' }, '/srv/root/etc/hostname': { file: 'box\n' } } }, [
      ['services.web.mounts[1].target: /etc/hostname/x cannot be created in the rootfs: /etc/hostname is not a directory; choose another target', true],
    ]],
  ]);
});

const PATH_TEXT = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const ROOTFS: Record<string, Entry> = {
  '/srv/root/bin': { link: '/usr/bin' },
  '/srv/root/usr/bin/tool': { file: elfHead('/lib/ld-musl.so.1') },
  '/srv/root/lib/ld-musl.so.1': { file: 'loader' },
  '/srv/root/usr/bin/broken': { file: elfHead('/lib64/ld-linux-x86-64.so.2') },
  '/srv/root/usr/bin/static': { file: elfHead(null) },
  '/srv/root/escape': { link: '../../../usr/bin/app' },
};

describe('host checks: command and cwd', () => {
  table([
    ['an absolute path that does not exist', { web: { command: ['/usr/bin/pythn3'] } }, {}, [
      ['services.web.command[0]: /usr/bin/pythn3 does not exist on this host; correct the path or install the program', true],
    ]],
    ['a missing directory on the way is named', { web: { command: ['/opt/app/bin/run'] } }, {}, [
      ['services.web.command[0]: /opt/app/bin/run does not exist on this host (/opt is missing); correct the path or install the program', true],
    ]],
    ['a name in no directory of the default PATH', { web: { command: ['pythn3'] } }, {}, [
      [`services.web.command[0]: "pythn3" is in no directory of PATH (${PATH_TEXT}) on this host; give its full path, install it, or set env.PATH`, true],
    ]],
    ['a name found through symlinks in PATH (/bin -> usr/bin, python3 -> python3.11)', { web: { command: ['python3'] } }, {}, []],
    ['a name found only through env.PATH', { web: { command: ['tool'], env: { PATH: '/opt/tools' } } }, { files: { '/opt/tools/tool': { file: 'x' } } }, []],
    ['a file without an execute bit', { web: { command: ['/srv/run.sh'] } }, { files: { '/srv/run.sh': { file: 'echo hi\n', mode: 0o644 } } }, [
      ['services.web.command[0]: /srv/run.sh is not executable (mode 0644); chmod +x /srv/run.sh', true],
    ]],
    ['in a PATH search, a file that cannot run wins over not found (execvp remembers EACCES)', { web: { command: ['job'] } },
      { files: { '/usr/local/bin/job': { file: 'x', mode: 0o600 } } }, [
        ['services.web.command[0]: /usr/local/bin/job is not executable (mode 0600); chmod +x /usr/local/bin/job', true],
      ]],
    ['a directory', { web: { command: ['/usr/bin'] } }, {}, [['services.web.command[0]: /usr/bin is a directory; name the program itself', true]]],
    // With the host's /dev (privileged): a service of its own has a /dev nsvisor makes, whose content the checks do not judge.
    ['a device node', { web: { command: ['/dev/null'], privileged: true } }, {}, [['services.web.command[0]: /dev/null is not a regular file; name the program itself', true]]],
    ['a script whose interpreter does not exist', { web: { command: ['/srv/run.py'] } }, { files: { '/srv/run.py': { file: '#!/usr/bin/python9 -u\nprint(1)\n' } } }, [
      ['services.web.command[0]: /srv/run.py starts with "#!/usr/bin/python9", and /usr/bin/python9 does not exist on this host; ' +
        "install it or correct the script's first line", true],
    ]],
    ['a script whose interpreter exists (through a symlink), and one run by /usr/bin/env', { a: { command: ['/srv/a'] }, b: { command: ['/srv/b'] } },
      { files: { '/srv/a': { file: '#! /bin/python3\n' }, '/srv/b': { file: '#!/usr/bin/env node\n' }, '/usr/bin/env': { file: 'env' } } }, []],
    ['a script whose interpreter is itself a script with a missing interpreter', { web: { command: ['/srv/outer'] } },
      { files: { '/srv/outer': { file: '#!/srv/inner\n' }, '/srv/inner': { file: '#!/nope/sh\n' } } }, [
        ['services.web.command[0]: /srv/outer starts with "#!/srv/inner", and /srv/inner starts with "#!/nope/sh", and /nope/sh does not exist on this host ' +
          "(/nope is missing); install it or correct the script's first line", true],
      ]],
    ['a relative path from cwd', { web: { command: ['./run'], cwd: '/srv/app' } }, { files: { '/srv/app/run': { file: 'x', mode: 0o700 } } }, []],
    ['a working directory that does not exist, and a relative command there', { web: { command: ['./run'], cwd: '/srv/app' } }, {}, [
      ['services.web.cwd: /srv/app does not exist on this host (/srv is missing); create it or correct cwd', true],
      ['services.web.command[0]: ./run does not exist on this host (/srv is missing); correct the path or install the program', true],
    ]],
    ['a cwd that is a file', { web: { cwd: '/etc/hosts' } }, {}, [['services.web.cwd: /etc/hosts is not a directory; correct cwd', true]]],
    ['in a rootfs: absolute symlinks resolve inside it, the ELF loader is there', { web: { rootfs: '/srv/root', command: ['/bin/tool'] } }, { files: ROOTFS }, []],
    ['in a rootfs: a program of the host is not in it', { web: { rootfs: '/srv/root', command: ['/usr/bin/app'] } }, { files: ROOTFS }, [
      ['services.web.command[0]: /usr/bin/app does not exist in the rootfs /srv/root; correct the path or install the program', true],
    ]],
    ['in a rootfs: ".." stops at its root', { web: { rootfs: '/srv/root', command: ['/escape'] } }, { files: ROOTFS }, [
      ['services.web.command[0]: /escape does not exist in the rootfs /srv/root (/usr/bin/app is missing); correct the path or install the program', true],
    ]],
    ['in a rootfs: a dynamic program without its loader; a static one needs none', {
      a: { rootfs: '/srv/root', command: ['/usr/bin/broken'] },
      b: { rootfs: '/srv/root', command: ['/usr/bin/static'] },
    }, { files: ROOTFS }, [
      ['services.a.command[0]: /usr/bin/broken needs the dynamic loader /lib64/ld-linux-x86-64.so.2, which does not exist in the rootfs /srv/root; ' +
        'copy the loader and the libraries the program needs into the rootfs, or use a statically linked build', true],
    ]],
    ['in a rootfs: the default PATH is searched inside it', { web: { rootfs: '/srv/root', command: ['tool'] } }, { files: ROOTFS }, []],
    ['a program in a bound host directory is found through the bind', {
      web: { command: ['/opt/app/run'], mounts: [{ type: 'bind', source: '/srv/app', target: '/opt/app' }] },
    }, { files: { '/srv/app/run': { file: 'x' }, '/opt/app': { dir: true } } }, []],
    ['a program under a declared tmpfs is hidden by it', { web: { command: ['/tmp/tool'], mounts: [{ type: 'tmpfs', target: '/tmp' }] } },
      { files: { '/tmp/tool': { file: 'x' } } }, [
        ['services.web.command[0]: /tmp/tool does not exist on this host: mounts[0] puts an empty tmpfs on /tmp; correct the path or install the program', true],
      ]],
    ['a program under /proc (the kernel makes it) is not judged', { web: { command: ['/proc/self/exe'] } }, {}, []],
    ['an empty program name', { web: { command: [''] } }, {}, [['services.web.command[0]: the program name is empty; name the program to run', true]]],
  ]);
});

describe('host checks: users in a user namespace', () => {
  table([
    ['uid and gid outside userns maps', { web: { user: '1000:2000', userns: { uidMap: '0:100000:1000', gidMap: '0:100000:1000,2001:300000:5' } } }, {}, [
      ['services.web.user: uid 1000 is not mapped by userns.uidMap (0:100000:1000, inside ids 0-999), so setuid(1000) would fail with EINVAL; ' +
        'add a range holding 1000 to the map, or choose a mapped uid', true],
      ['services.web.user: gid 2000 is not mapped by userns.gidMap (0:100000:1000,2001:300000:5, inside ids 0-999, 2001-2005), so setgid(2000) would fail ' +
        'with EINVAL; add a range holding 2000 to the map, or choose a mapped gid', true],
    ]],
    ['a uid past userns "auto" (65536 ids from the subordinate base)', { web: { user: '70000', userns: 'auto' } }, {}, [
      ['services.web.user: uid 70000 is not mapped by userns "auto" (0:100000:65536, inside ids 0-65535), so setuid(70000) would fail with EINVAL; ' +
        'add a range holding 70000 to the map, or choose a mapped uid', true],
      ['services.web.user: gid 70000 is not mapped by userns "auto" (0:100000:65536, inside ids 0-65535), so setgid(70000) would fail with EINVAL; ' +
        'add a range holding 70000 to the map, or choose a mapped gid', true],
    ]],
    ['isolate [user] without userns maps root only', { web: { user: '1000:1000', isolate: ['pid', 'mount', 'user'] } }, {}, [
      ['services.web.user: uid 1000 is not mapped by the user namespace of isolate [user] without userns (0:0:1, inside id 0), so setuid(1000) would fail ' +
        'with EINVAL; give userns a map holding 1000 (or "auto")', true],
      ['services.web.user: gid 1000 is not mapped by the user namespace of isolate [user] without userns (0:0:1, inside id 0), so setgid(1000) would fail ' +
        'with EINVAL; give userns a map holding 1000 (or "auto")', true],
    ]],
    ['mapped ids, and any ids without a user namespace', { a: { user: '1000:1000', userns: 'auto' }, b: { user: '123456:7' } }, {}, []],
  ]);
});

const NOTIFY = { ready: { notify: true } };

describe('host checks: sockets a declared mount hides', () => {
  table([
    ['a bind of a host directory over the notify socket', { db: { ...NOTIFY, mounts: [{ type: 'bind', source: '/srv/run', target: '/run' }] } },
      { files: { '/srv/run': { dir: true } } }, [
        ['services.db.mounts[0]: the bind mount of /srv/run on /run covers /run/nsvisor/notify, where NOTIFY_SOCKET /run/nsvisor/notify/db.sock is ' +
          '(ready.notify), and nsvisor does not create it in a host directory; bind a directory that does not hold /run/nsvisor/notify, or move ' +
          'supervisor.control out from under /run', true],
      ]],
    ['the same with a rootfs: the socket would be made in the bound host directory', {
      db: { ...NOTIFY, rootfs: '/srv/root', command: ['/bin/tool'], mounts: [{ type: 'bind', source: '/srv/run', target: '/run' }] },
    }, { files: { ...ROOTFS, '/srv/run': { dir: true } } }, [
      ['services.db.mounts[0]: the bind mount of /srv/run on /run covers /run/nsvisor/notify, where NOTIFY_SOCKET /run/nsvisor/notify/db.sock is ' +
        '(ready.notify), and nsvisor does not create it in a host directory; bind a directory that does not hold /run/nsvisor/notify, or move ' +
        'supervisor.control out from under /run', true],
    ]],
    ['a tmpfs over it (the socket is carried in), the host /run bound onto itself, a tmpfs over the bind, no notify', {
      a: { ...NOTIFY, mounts: [{ type: 'tmpfs', target: '/run' }] },
      b: { ...NOTIFY, mounts: [{ type: 'bind', source: '/run', target: '/run' }] },
      c: { ...NOTIFY, mounts: [{ type: 'bind', source: '/srv/run', target: '/run' }, { type: 'tmpfs', target: '/run/nsvisor' }] },
      d: { mounts: [{ type: 'bind', source: '/srv/run', target: '/run' }] },
    }, { files: { '/srv/run': { dir: true } } }, []],
    ['a unix listen path under a declared tmpfs: reachable by fd only, not permanent', {
      api: { listen: ['tcp://127.0.0.1:8080', 'unix:///run/api/api.sock'], mounts: [{ type: 'tmpfs', target: '/run' }] },
    }, {}, [
      ['services.api.listen[1]: unix:///run/api/api.sock is hidden inside the service by mounts[0] (the tmpfs on /run): the service still gets it as fd 4 ' +
        '(LISTEN_FDS), but nothing inside can reach it by its path; move the socket out from under /run, or bind its directory back in', false],
    ]],
    ['a unix listen path with a rootfs, or with its directory bound back in, is not reported', {
      a: { listen: ['unix:///run/api/a.sock'], rootfs: '/srv/root', command: ['/bin/tool'], mounts: [{ type: 'tmpfs', target: '/run' }] },
      b: { listen: ['unix:///run/api/b.sock'], mounts: [{ type: 'tmpfs', target: '/run' }, { type: 'bind', source: '/run/api', target: '/run/api' }] },
    }, { files: { ...ROOTFS, '/run/api': { dir: true } } }, []],
  ]);
});

describe('host checks: network', () => {
  const attached = { isolate: ['pid', 'mount', 'net'], network: { attach: 'nsv0', address: '10.88.0.10' } };
  const checkNet = (services: Record<string, Record<string, unknown>>, host: FakeHostOptions) =>
    check(services, host, { supervisor: { metrics: '127.0.0.1:9753' }, networks: { nsv0: { subnet: '10.88.0.0/24' } } });
  const listener = (address: string, port: number, inode: number, owner?: { pid: number; command: string }) =>
    ({ family: address.includes(':') ? 6 : 4, address, port, inode, owner }) as const;

  it('a fixed address leased by another nsvisor process; ours is no other holder', () => {
    assert.deepEqual(checkNet({ web: attached }, { leases: { 'nsv0 10.88.0.10': { pid: 777, owner: 'api' } } }), [
      ['services.web.network.address: 10.88.0.10 on network nsv0 is leased to api of another nsvisor process (pid 777); choose another address, ' +
        'or leave address out to get the next free one', false],
    ]);
    assert.deepEqual(checkNet({ web: attached }, { pid: 777, leases: { 'nsv0 10.88.0.10': { pid: 777, owner: 'web' } } }), []);
  });

  it('a network.device that is not there (not permanent: it may appear; until then the service waits in backoff)', () => {
    assert.deepEqual(checkNet({ web: { isolate: ['net'], network: { device: 'dummy9' } }, ok: { isolate: ['net'], network: { device: 'eth0' } } }, {}), [
      ['services.web.network.device: there is no network device dummy9 on this host; create it or correct the name (until it exists, each start fails ' +
        'and the service waits in backoff)', false],
    ]);
  });

  it('tcp listen ports another process has bound, named when it can be found; the metrics port too', () => {
    const host: FakeHostOptions = {
      listeners: [
        listener('0.0.0.0', 8080, 11, { pid: 321, command: 'python3' }),
        listener('::', 9753, 12, { pid: 654, command: 'node' }),
        listener('127.0.0.2', 8081, 13),
        listener('127.0.0.1', 8082, 14),
        listener('127.0.0.1', 8083, 15, { pid: 4000, command: 'node' }),
      ],
    };
    const listen = ['tcp://127.0.0.1:8080', 'tcp://127.0.0.1:8081', 'tcp://0.0.0.0:8082', 'tcp://127.0.0.1:8083', 'tcp://[::1]:8082'];
    assert.deepEqual(checkNet({ api: { listen } }, host), [
      ['services.api.listen[0]: port 8080 is already bound: python3 (pid 321) listens on 0.0.0.0:8080; stop that process, or choose another port', false],
      ['services.api.listen[2]: port 8082 is already bound: a process this check cannot see listens on 127.0.0.1:8082; stop that process, or choose another port', false],
      ['supervisor.metrics: port 9753 is already bound: node (pid 654) listens on [::]:9753; stop that process, choose another port, or set metrics: off', false],
    ]);
  });
});

describe('host checks: seccomp profile files', () => {
  const allowAll = JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW' });
  table([
    ['a profile that parses and compiles; the default and unconfined read no file', {
      file: { seccomp: '/etc/ok.json' }, dflt: { seccomp: 'default' }, none: { seccomp: 'unconfined' },
    }, { files: { '/etc/ok.json': { file: allowAll } } }, []],
    ['a profile missing, a directory, not JSON, with an unknown syscall', {
      gone: { seccomp: '/etc/gone.json' },
      dir: { seccomp: '/etc' },
      text: { seccomp: '/etc/hosts' },
      typo: { seccomp: '/etc/typo.json' },
    }, { files: { '/etc/typo.json': { file: JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mount', 'umount3'], action: 'SCMP_ACT_ERRNO' }] }) } } }, [
      ['services.gone.seccomp: /etc/gone.json: cannot read: no such file', true],
      ['services.dir.seccomp: /etc: cannot read: is a directory', true],
      ['services.text.seccomp: /etc/hosts: invalid JSON at line 1, column 6: expected the end of the file after the value, got "."', true],
      ['services.typo.seccomp: /etc/typo.json: syscalls[0].names[1]: unknown syscall "umount3"; did you mean "umount"?', true],
    ]],
  ]);
});
