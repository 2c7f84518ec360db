// Podman for the container tests: private storage, state and network config, run inside a network namespace of the
// test's own, an overlay of / as the containers' root, a cgroup parent of the test's own; destroy() removes it all.
import { spawn, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { cgroupMounts } from '../../src/cgroup/detect';
import { removeTree } from '../../src/cgroup/files';
import { testRoot } from './cgroup-helpers';
import { SLOWDOWN } from './helpers';

/** Why the container tests cannot run here, or null. */
export function podmanMissing(): string | null {
  for (const tool of ['podman', 'runc', 'nsenter']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed (apt-get install --no-install-recommends podman runc)`;
  }
  return null;
}

/** The hard limit of this process for a /proc/self/limits row ("Max open files"). */
function hardLimit(row: string): number {
  const m = new RegExp(`^${row}\\s+\\S+\\s+(\\S+)`, 'm').exec(fs.readFileSync('/proc/self/limits', 'utf8'));
  return !m || m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

/** Host cgroup directories below `rel` in every cgroup hierarchy mounted here (podman makes them in all, cpuset and blkio too). */
export function hostCgroupDirs(rel: string): string[] {
  const mounts = cgroupMounts(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
  return [...new Set(mounts.map((m) => path.join(m.mountPoint, rel)))];
}

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class PodmanHost {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsvisor-podman-'));
  readonly rootfs = path.join(this.dir, 'rootfs');
  readonly netns = `nsvtest-podman-${crypto.randomBytes(4).toString('hex')}`;
  /** The cgroup every container of this host goes under (--cgroup-parent). */
  readonly cgroupParent = testRoot();
  private readonly base: string[];
  private mounted = false;
  /**
   * Podman's state no option moves (its blob cache, CNI's cache of results): for each path, its first level that
   * is not there yet, removed after.
   */
  private readonly made = [
    ['/var/lib/containers', '/var/lib/containers/cache', '/var/lib/containers/cache/blob-info-cache-v1.boltdb'],
    ['/var/lib/cni', '/var/lib/cni/results'],
  ].map((levels) => levels.find((p) => !fs.existsSync(p))).filter((p): p is string => p !== undefined);

  constructor() {
    for (const d of ['upper', 'work', 'rootfs', 'storage', 'run', 'tmp', 'cni', 'cni-data']) fs.mkdirSync(path.join(this.dir, d));
    this.base = [
      '--root', `${this.dir}/storage`, '--runroot', `${this.dir}/run`, '--tmpdir', `${this.dir}/tmp`,
      '--network-config-dir', `${this.dir}/cni`, '--events-backend', 'none', '--cgroup-manager', 'cgroupfs', '--runtime', 'runc',
    ];
    // The default network, its bridge and its address leases in this test's namespace and directory only.
    fs.writeFileSync(`${this.dir}/cni/podman.conflist`, JSON.stringify({
      cniVersion: '0.4.0', name: 'podman',
      plugins: [
        { type: 'bridge', bridge: 'nsvtest0', isGateway: true, ipMasq: true, hairpinMode: true,
          ipam: { type: 'host-local', dataDir: `${this.dir}/cni-data`, routes: [{ dst: '0.0.0.0/0' }], ranges: [[{ subnet: '10.89.7.0/24', gateway: '10.89.7.1' }]] } },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    }));
    this.sh('ip', ['netns', 'add', this.netns]);
    this.sh('ip', ['-n', this.netns, 'link', 'set', 'lo', 'up']);
    // runc cannot pivot_root into / itself: the containers' root is an overlay of it, writes kept in this directory.
    this.sh('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=/,upperdir=${this.dir}/upper,workdir=${this.dir}/work`, this.rootfs]);
    this.mounted = true;
  }

  private sh(cmd: string, args: string[]): string {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error}`);
    return r.stdout;
  }

  /** `podman ARGS` with this host's private settings, in its network namespace. */
  podman(args: string[], timeoutMs = 120_000): Ran {
    const r = spawnSync('nsenter', [`--net=/run/netns/${this.netns}`, '--', 'podman', ...this.base, ...args], { encoding: 'utf8', timeout: timeoutMs * SLOWDOWN });
    return { code: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
  }

  /** podman() that must succeed: its stdout, trimmed. */
  must(args: string[], timeoutMs?: number): string {
    const r = this.podman(args, timeoutMs);
    if (r.code !== 0) throw new Error(`podman ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
    return r.stdout.trim();
  }

  /** The options every container needs here: our cgroup parent, and rlimits this process may hand on (no CAP_SYS_RESOURCE). */
  runOptions(): string[] {
    const nofile = Math.min(20_000, hardLimit('Max open files'));
    const nproc = Math.min(4096, hardLimit('Max processes'));
    return ['--cgroup-parent', this.cgroupParent, '--ulimit', `nofile=${nofile}:${nofile}`, '--ulimit', `nproc=${nproc}:${nproc}`];
  }

  /** Starts a detached container; its id. */
  start(name: string, options: string[], command: string[]): string {
    return this.must(['run', '-d', '--name', name, ...this.runOptions(), ...options, ...command]);
  }

  /** The container's output, stdout and stderr (podman logs gives them back on its own two). */
  logs(name: string): string {
    const r = this.podman(['logs', name]);
    return r.stdout + r.stderr;
  }

  inspect(name: string, format: string): string {
    return this.must(['inspect', '--format', format, name]);
  }

  /**
   * The container's cgroup as the host's /proc/PID/cgroup names it: podman's cgroupfs manager makes it
   * <parent>/libpod-<id> in every hierarchy (its PID 1 may have moved below it since: nsvisor's supervisor leaf).
   */
  cgroupOf(name: string): string {
    return `${this.cgroupParent}/libpod-${this.inspect(name, '{{.Id}}')}`;
  }

  /** An HTTP GET of 127.0.0.1:port in this host's network namespace (where -p publishes): status and body. */
  get(port: number, urlPath: string): Promise<Ran> {
    const script = `fetch('http://127.0.0.1:${port}${urlPath}').then(async (r) => process.stdout.write(r.status + '\\n' + await r.text()), (e) => { console.error(String(e.cause ?? e)); process.exit(1); })`;
    const child = spawn('nsenter', [`--net=/run/netns/${this.netns}`, '--', process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  }

  /**
   * Imports, as image `name`, the smallest root that runs Node here: this host's node (at /usr/local/bin, where the
   * official node images have it), the libraries it and /bin/sh load, /bin/sh, /etc/passwd and /etc/group.
   */
  importNodeBase(name: string): void {
    const ldd = this.sh('ldd', [process.execPath, '/bin/sh']);
    const libs = [...new Set(ldd.match(/\/\S+\.so[.\d]*/g) ?? [])].filter((f) => fs.existsSync(f));
    const tarball = path.join(this.dir, 'node-base.tar');
    const files = [process.execPath, '/bin/sh', '/etc/passwd', '/etc/group', ...libs].map((f) => f.slice(1));
    const rename = `s,^${process.execPath.slice(1)}$,usr/local/bin/node,`;
    this.sh('tar', ['-c', '-h', '-f', tarball, '-C', '/', `--transform=${rename}`, ...files]);
    this.must(['import', tarball, name]);
  }

  /** Removes every container and image, the overlay, the namespace, the cgroups under our parent and the directory. */
  async destroy(): Promise<void> {
    this.podman(['rm', '-af', '-t', '0']);
    this.podman(['rmi', '-af']);
    // What podman still holds mounted in its storage (an image's layers), deepest first, then our overlay.
    for (const m of this.mountsUnder()) spawnSync('umount', [m]);
    if (this.mounted) spawnSync('umount', [this.rootfs]);
    spawnSync('ip', ['netns', 'del', this.netns]);
    for (const d of hostCgroupDirs(this.cgroupParent)) if (fs.existsSync(d)) await removeTree(d);
    fs.rmSync(this.dir, { recursive: true, force: true });
    for (const p of this.made) fs.rmSync(p, { recursive: true, force: true });
  }

  /** Mount points below our directory (but the overlay root), deepest first. */
  mountsUnder(): string[] {
    const points = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter(Boolean);
    return points.filter((p) => p.startsWith(`${this.dir}/`) && p !== this.rootfs).sort((a, b) => b.length - a.length);
  }
}
