// `nsvisor check` against this real machine: each host problem on configurations built in a temp dir, exact messages, and the ok case.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

import { CgroupError, openCgroups } from '../../src/cgroup';
import { detectLayout } from '../../src/cgroup/detect';
import { netnsKey } from '../../src/net/leases';
import { isV2, removeTestRoot, testRoot } from './cgroup-helpers';
import { cli, requireRoot } from './helpers';

/** The program interpreter readelf(1) names for an ELF file: an oracle independent of the code under test. */
function loaderOf(file: string): string | null {
  const r = spawnSync('readelf', ['-l', file], { encoding: 'utf8' });
  return /Requesting program interpreter: (\S+)\]/.exec(r.stdout ?? '')?.[1] ?? null;
}

/** The shared libraries ldd(1) lists for `file`, with the loader: what a rootfs needs to run it. */
function libsOf(file: string): string[] {
  const r = spawnSync('ldd', [file], { encoding: 'utf8' });
  return [...(r.stdout ?? '').matchAll(/(\/\S+) \(0x/g)].map((m) => m[1]);
}

/** A port nothing listens on just now (the kernel's pick for port 0, let go again). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('check: against this host (root, real kernel)', function () {
  before(requireRoot);
  let dir: string;
  let n = 0;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsvisor-check-host-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A configuration file in the temp dir: metrics off and the control socket (so the notify sockets) in the temp dir. */
  function configFile(services: Record<string, object>, extra: { supervisor?: object; networks?: object } = {}): string {
    const file = path.join(dir, `config-${n++}.yaml`);
    const supervisor = { metrics: 'off', control: path.join(dir, 'nsvisor.sock'), ...extra.supervisor };
    fs.writeFileSync(file, JSON.stringify({ supervisor, networks: extra.networks, services }, null, 2));
    return file;
  }

  function check(file: string, ...flags: string[]) {
    const r = cli(['check', '-c', file, ...flags], { env: { ...process.env, NSVISOR_LEASE_DIR: path.join(dir, 'net') } });
    return { code: r.code, stdout: r.stdout, stderr: r.stderr };
  }

  const report = (file: string, ...problems: string[]) => `${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${problems.map((p) => `${p}\n`).join('')}`;

  it('says ok for a configuration this host can run', async () => {
    fs.mkdirSync(path.join(dir, 'data'));
    const free = await freePort();
    const file = configFile({
      web: {
        command: ['sh', '-c', 'exec sleep 1000'],
        resources: { memory: '64Mi', pids: 32, cpus: 0.5 },
        mounts: [{ type: 'bind', source: path.join(dir, 'data'), target: '/mnt', readonly: true }, { type: 'tmpfs', target: '/var/tmp' }],
        ready: { notify: true },
        listen: [`tcp://127.0.0.1:${free}`, `unix://${dir}/api.sock`],
        user: '1000:1000',
        userns: 'auto',
      },
    });
    assert.deepEqual(check(file), { code: 0, stdout: `${file}: ok (1 service)\n`, stderr: '' });
  });

  it('memoryHigh: reported where the memory controller is cgroup v1, not on pure v2; --schema-only skips the host', () => {
    const file = configFile({ db: { command: ['/bin/true'], resources: { memory: '256Mi', memoryHigh: '100Mi' } } });
    const kind = detectLayout().kind;
    if (kind === 'v2') {
      assert.deepEqual(check(file), { code: 0, stdout: `${file}: ok (1 service)\n`, stderr: '' });
    } else {
      assert.deepEqual(check(file), {
        code: 2,
        stdout: report(file, "services.db.resources.memoryHigh: this host's memory controller is cgroup v1, which has no memory.high; remove memoryHigh (memory, the hard limit, works on v1)"),
        stderr: '',
      });
    }
    assert.deepEqual(check(file, '--schema-only'), { code: 0, stdout: `${file}: ok (1 service)\n`, stderr: '' });
  });

  it('limits where the services\' cgroups go: on v2 a root whose parent does not exist is offered nothing, and the driver agrees', async () => {
    const top = testRoot();
    const deep = `${top}/deep`;
    const file = configFile({ web: { command: ['/bin/true'], resources: { memory: '64Mi', pids: 16 } } }, { supervisor: { cgroupRoot: deep } });
    try {
      const r = check(file);
      const create = () => openCgroups({ root: deep }).create('web', { memory: 64 * 1024 * 1024, pids: 16 });
      if (isV2()) {
        const parent = path.join(detectLayout().unified!, top);
        const problem = (controller: string, key: string) =>
          `services.web.resources.${key}: the ${controller} controller is not offered to the services' cgroups under ${deep}: ${parent} does not exist, ` +
          `and the parents nsvisor makes enable no controllers; create it and run "echo +${controller} > ${parent}/cgroup.subtree_control", or ` +
          'choose a cgroupRoot whose parent exists';
        assert.deepEqual(r, { code: 2, stdout: report(file, problem('memory', 'memory'), problem('pids', 'pids')), stderr: '' });
        assert.throws(create, (e: Error) => e instanceof CgroupError && /the memory controller is not enabled for /.test(e.message));
      } else {
        assert.deepEqual(r, { code: 0, stdout: `${file}: ok (1 service)\n`, stderr: '' });
        await create().destroy();
      }
    } finally {
      await removeTestRoot(top);
    }
  });

  it('mount sources and targets, with and without rootfs, and a target of the wrong type', () => {
    const root = path.join(dir, 'root');
    fs.mkdirSync(path.join(root, 'usr', 'bin'), { recursive: true });
    fs.writeFileSync(path.join(root, 'etc'), 'a file where a directory would be\n');
    fs.copyFileSync('/bin/true', path.join(root, 'usr', 'bin', 'true'));
    const file = configFile({
      a: { command: ['/bin/true'], mounts: [{ type: 'bind', source: path.join(dir, 'missing'), target: '/mnt' }] },
      b: { command: ['/bin/true'], mounts: [{ type: 'tmpfs', target: path.join(dir, 'no-target') }, { type: 'tmpfs', target: '/etc/hostname' }] },
      c: {
        command: ['/usr/bin/true'],
        rootfs: root,
        mounts: [{ type: 'tmpfs', target: '/var/cache' }, { type: 'tmpfs', target: '/etc/app' }, { type: 'bind', source: dir, target: '/srv' }],
      },
    });
    const loader = loaderOf('/bin/true');
    assert.ok(loader, 'readelf names the loader of /bin/true');
    assert.deepEqual(check(file), {
      code: 2,
      stdout: report(
        file,
        `services.a.mounts[0].source: ${dir}/missing does not exist; create it on the host or correct the path`,
        `services.b.mounts[0].target: ${dir}/no-target does not exist (without rootfs nsvisor creates nothing on the host); create it on the host, or give the service a rootfs`,
        'services.b.mounts[1].target: /etc/hostname is not a directory, and a tmpfs can only be mounted on one; choose a directory as target',
        'services.c.mounts[1].target: /etc/app cannot be created in the rootfs: /etc is not a directory; choose another target',
        `services.c.command[0]: /usr/bin/true needs the dynamic loader ${loader}, which does not exist in the rootfs ${root}; copy the loader and the libraries the program needs into the rootfs, or use a statically linked build`,
      ),
      stderr: '',
    });
  });

  it('commands: missing, not in PATH, not executable, a missing interpreter, a rootfs without the loader; each fails for real as reported', () => {
    const script = path.join(dir, 'run.sh');
    fs.writeFileSync(script, '#!/bin/sh\necho hi\n', { mode: 0o644 });
    const python = path.join(dir, 'run.py');
    fs.writeFileSync(python, '#!/usr/bin/nsvisor-no-python -u\nprint(1)\n', { mode: 0o755 });
    const root = path.join(dir, 'root');
    fs.mkdirSync(path.join(root, 'usr', 'bin'), { recursive: true });
    fs.symlinkSync('/usr/bin', path.join(root, 'bin')); // absolute: resolved inside the rootfs, not on the host
    fs.copyFileSync('/bin/true', path.join(root, 'usr', 'bin', 'true'));
    const file = configFile({
      a: { command: ['/usr/bin/nsvisor-no-such-program'] },
      b: { command: ['nsvisor-no-such-program'], env: { PATH: '/usr/bin:/bin' } },
      c: { command: [script] },
      d: { command: [python] },
      e: { command: ['/bin/true'], rootfs: root },
      f: { command: ['true'], cwd: path.join(dir, 'nowhere') },
    });
    const loader = loaderOf('/bin/true');
    assert.deepEqual(check(file), {
      code: 2,
      stdout: report(
        file,
        'services.a.command[0]: /usr/bin/nsvisor-no-such-program does not exist on this host; correct the path or install the program',
        'services.b.command[0]: "nsvisor-no-such-program" is in no directory of PATH (/usr/bin:/bin) on this host; give its full path, install it, or set env.PATH',
        `services.c.command[0]: ${script} is not executable (mode 0644); chmod +x ${script}`,
        `services.d.command[0]: ${python} starts with "#!/usr/bin/nsvisor-no-python", and /usr/bin/nsvisor-no-python does not exist on this host; install it or correct the script's first line`,
        `services.e.command[0]: /bin/true needs the dynamic loader ${loader}, which does not exist in the rootfs ${root}; copy the loader and the libraries the program needs into the rootfs, or use a statically linked build`,
        `services.f.cwd: ${dir}/nowhere does not exist on this host; create it or correct cwd`,
      ),
      stderr: '',
    });
    // The kernel agrees: the same commands under the same planner fail with ENOENT (127) or EACCES (126).
    const run = (...args: string[]) => cli(['sandbox', ...args]).code;
    assert.equal(run('--', script), 126);
    assert.equal(run('--', python), 127);
    assert.equal(run('--rootfs', root, '--', '/bin/true'), 127);
    // With its libraries and loader copied in, the rootfs one is fine for check and runs.
    for (const lib of libsOf('/bin/true')) {
      fs.mkdirSync(path.join(root, path.dirname(lib)), { recursive: true });
      fs.copyFileSync(lib, path.join(root, lib));
    }
    const fixed = configFile({ e: { command: ['/bin/true'], rootfs: root } });
    assert.deepEqual(check(fixed), { code: 0, stdout: `${fixed}: ok (1 service)\n`, stderr: '' });
    assert.equal(run('--rootfs', root, '--', '/bin/true'), 0);
  });

  it('a user that the user namespace does not map, and the setuid that fails for real', () => {
    const file = configFile({ web: { command: ['/bin/true'], user: '1000:1000', userns: { uidMap: '0:200000:1000', gidMap: '0:200000:1001' } } });
    assert.deepEqual(check(file), {
      code: 2,
      stdout: report(
        file,
        'services.web.user: uid 1000 is not mapped by userns.uidMap (0:200000:1000, inside ids 0-999), so setuid(1000) would fail with EINVAL; ' +
          'add a range holding 1000 to the map, or choose a mapped uid',
      ),
      stderr: '',
    });
    const r = cli(['sandbox', '--uid-map', '0:200000:1000', '--gid-map', '0:200000:1001', '--user', '1000:1000', '--', '/bin/true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /setuid.*Invalid argument/);
  });

  it('a bind mount over the notify socket, and a tmpfs over a unix listen path', () => {
    fs.mkdirSync(path.join(dir, 'other'));
    fs.mkdirSync(path.join(dir, 'sock'));
    const file = configFile({
      db: { command: ['/bin/true'], ready: { notify: true }, mounts: [{ type: 'bind', source: path.join(dir, 'other'), target: dir }] },
      api: { command: ['/bin/true'], listen: [`unix://${dir}/sock/api.sock`], mounts: [{ type: 'tmpfs', target: `${dir}/sock` }] },
    });
    assert.deepEqual(check(file), {
      code: 2,
      stdout: report(
        file,
        `services.db.mounts[0]: the bind mount of ${dir}/other on ${dir} covers ${dir}/notify, where NOTIFY_SOCKET ${dir}/notify/db.sock is ` +
          `(ready.notify), and nsvisor does not create it in a host directory; bind a directory that does not hold ${dir}/notify, or move ` +
          `supervisor.control out from under ${dir}`,
        `services.api.listen[0]: unix://${dir}/sock/api.sock is hidden inside the service by mounts[0] (the tmpfs on ${dir}/sock): the service still ` +
          `gets it as fd 3 (LISTEN_FDS), but nothing inside can reach it by its path; move the socket out from under ${dir}/sock, or bind its directory back in`,
      ),
      stderr: '',
    });
  });

  describe('what other processes hold', () => {
    let server: net.Server;
    let port: number;
    const comm = fs.readFileSync('/proc/self/comm', 'utf8').trim();

    beforeEach(async () => {
      server = net.createServer();
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as net.AddressInfo).port;
    });
    afterEach(() => new Promise<void>((r) => server.close(() => r())));

    it('a listen port and the metrics port bound by another process, named with its pid', () => {
      const file = configFile({ api: { command: ['/bin/true'], listen: [`tcp://0.0.0.0:${port}`, `tcp://127.0.0.2:${port}`] } }, {
        supervisor: { metrics: `127.0.0.1:${port}` },
      });
      const holder = `${comm} (pid ${process.pid}) listens on 127.0.0.1:${port}`;
      assert.deepEqual(check(file), {
        code: 2,
        stdout: report(
          file,
          `services.api.listen[0]: port ${port} is already bound: ${holder}; stop that process, or choose another port`,
          `supervisor.metrics: port ${port} is already bound: ${holder}; stop that process, choose another port, or set metrics: off`,
        ),
        stderr: '',
      });
    });

    it('a fixed address another nsvisor process has leased, and a device that is not there', () => {
      const leases = path.join(dir, 'net', `${netnsKey()}-nsvt0`);
      fs.mkdirSync(leases, { recursive: true });
      fs.writeFileSync(path.join(leases, '10.89.0.10'), `${process.pid} api\n`);
      fs.writeFileSync(path.join(leases, '10.89.0.11'), '999999999 gone\n'); // its holder is dead: free
      const file = configFile({
        web: { command: ['/bin/true'], isolate: ['pid', 'mount', 'net'], network: { attach: 'nsvt0', address: '10.89.0.10' } },
        other: { command: ['/bin/true'], isolate: ['pid', 'mount', 'net'], network: { attach: 'nsvt0', address: '10.89.0.11' } },
        dev: { command: ['/bin/true'], isolate: ['net'], network: { device: 'nsvt-nodev0' } },
        lo: { command: ['/bin/true'], isolate: ['net'], network: { device: 'lo' } },
      }, { networks: { nsvt0: { subnet: '10.89.0.0/24' } } });
      assert.deepEqual(check(file), {
        code: 2,
        stdout: report(
          file,
          `services.web.network.address: 10.89.0.10 on network nsvt0 is leased to api of another nsvisor process (pid ${process.pid}); choose another ` +
            'address, or leave address out to get the next free one',
          'services.dev.network.device: there is no network device nsvt-nodev0 on this host; create it or correct the name (until it exists, each ' +
            'start fails and the service waits in backoff)',
        ),
        stderr: '',
      });
    });
  });

  it('security keys: a seccomp profile that does not parse, is missing, names an unknown syscall or capability; an unknown capability', () => {
    const profile = (name: string, text: string) => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, text);
      return file;
    };
    const broken = profile('broken.json', '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [\n');
    const typo = profile('typo.json', JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getppid', 'getppidd'], action: 'SCMP_ACT_KILL' }] }));
    const caps = profile('caps.json', JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['mount'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMN'] } }] }));
    const missing = path.join(dir, 'none.json');
    const cmd = ['/bin/true'];
    const file = configFile({
      broken: { command: cmd, seccomp: broken },
      typo: { command: cmd, seccomp: typo },
      caps: { command: cmd, seccomp: caps },
      missing: { command: cmd, seccomp: missing },
    });
    assert.deepEqual(check(file), {
      code: 2,
      stdout: report(
        file,
        `services.broken.seccomp: ${broken}: invalid JSON at line 2, column 1: expected a value, got the end of the file`,
        `services.typo.seccomp: ${typo}: syscalls[0].names[1]: unknown syscall "getppidd"; did you mean "getppid"?`,
        `services.caps.seccomp: ${caps}: syscalls[0].includes.caps[0]: unknown capability "CAP_SYS_ADMN"; did you mean "CAP_SYS_ADMIN"?`,
        `services.missing.seccomp: ${missing}: cannot read: no such file`,
      ),
      stderr: '',
    });
    const badCap = configFile({ web: { command: cmd, capabilities: ['CAP_NET_BIND_SERVICE', 'net_admin', 'CAP_SYS_ADMN'] } });
    assert.deepEqual(check(badCap), {
      code: 2,
      stdout: report(badCap, 'services.web.capabilities[2]: unknown capability "CAP_SYS_ADMN" (expected a name of capabilities(7), e.g. CAP_NET_BIND_SERVICE)'),
      stderr: '',
    });
  });
});
