// A throwaway network namespace standing in for "the host" of the network tests (entered with nsenter --net only, so cgroups and mounts stay as they are).
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { stringify } from 'yaml';

import { cli, cliPath, killTree, SLOWDOWN, waitFor } from './helpers';
import { writeConfig } from './supervisor-helpers';

/** ICMP echo to argv[1] over a raw socket (no ping binary needed); exits 0 on a reply within 2 s. */
export const PING_PY = `
import socket, struct, sys
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP); s.settimeout(2)
m = struct.pack('!BBHHH', 8, 0, 0, 0x4e53, 1) + b'nsvisor!'
s.sendto(m[:2] + struct.pack('!H', csum(m)) + m[4:], (sys.argv[1], 0))
while True:
    d, a = s.recvfrom(1500)
    if a[0] == sys.argv[1] and d[20] == 0: print('pong', a[0]); break
`;

/** A TCP server on port argv[1]: prints "listening", then answers each connection's first message upper-cased. */
export const ECHO_PY = `
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', int(sys.argv[1]))); s.listen()
print('listening', flush=True)
while True:
    c, a = s.accept(); d = c.recv(100)
    if d: c.sendall(d.upper()); print('served', a[0], flush=True)
    c.close()
`;

/** A TCP client: sends argv[3] to argv[1]:argv[2] and prints the answer. */
export const CLIENT_PY = `
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3); c.sendall(sys.argv[3].encode()); print(c.recv(100).decode())
`;

export class TestHost {
  readonly name = `nsvtest-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  /** Lease files of this test only. */
  readonly leaseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsvtest-leases-'));
  private readonly children = new Set<ChildProcess>();
  /** The "outside" namespace of outside(), when made. */
  private outsideName: string | null = null;

  constructor() {
    this.ip('netns', 'add', this.name);
    // A new namespace copies the machine's ip_forward (net.core.devconf_inherit_init_net 0): ours starts off, so a
    // test sees what nsvisor turns on, whatever the machine has.
    const off = spawnSync('ip', ['netns', 'exec', this.name, 'sysctl', '-qw', 'net.ipv4.ip_forward=0'], { encoding: 'utf8' });
    if (off.status !== 0) throw new Error(`ip_forward=0 in ${this.name}: ${off.stderr}`);
  }

  /** `ip ARGS` on the real host (only for netns add/del) or, with -n, inside this namespace. */
  ip(...args: string[]): string {
    const r = spawnSync('ip', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  /** Link names in this namespace. */
  links(): string[] {
    return this.ip('-n', this.name, '-o', 'link', 'show').split('\n').filter(Boolean).map((l) => l.split(':')[1].trim().split('@')[0]);
  }

  /** `nft ARGS` inside this namespace (never the machine's own). */
  nft(...args: string[]): string {
    const r = spawnSync('nsenter', [`--net=/run/netns/${this.name}`, '--', 'nft', ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`nft ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  /** net.ipv4.ip_forward of this namespace. */
  ipForward(): string {
    return spawnSync('nsenter', [`--net=/run/netns/${this.name}`, '--', 'cat', '/proc/sys/net/ipv4/ip_forward'], { encoding: 'utf8' }).stdout.trim();
  }

  /**
   * A third namespace standing in for the world beyond the host: joined to this one by a veth, HOST_OUT on our end,
   * OUTSIDE on its end (both /24). Returns its name; destroy() deletes it.
   */
  outside(hostAddress: string, outsideAddress: string): string {
    const out = (this.outsideName = `${this.name}-out`);
    this.ip('netns', 'add', out);
    this.ip('-n', this.name, 'link', 'add', 'nsvout0', 'type', 'veth', 'peer', 'name', 'nsvout1', 'netns', out);
    this.ip('-n', this.name, 'addr', 'add', `${hostAddress}/24`, 'dev', 'nsvout0');
    this.ip('-n', this.name, 'link', 'set', 'nsvout0', 'up');
    this.ip('-n', out, 'addr', 'add', `${outsideAddress}/24`, 'dev', 'nsvout1');
    this.ip('-n', out, 'link', 'set', 'nsvout1', 'up');
    this.ip('-n', out, 'link', 'set', 'lo', 'up');
    return out;
  }

  /** A command in network namespace `ns` in the background, its output collected in `out`; destroy() ends it. */
  spawnIn(ns: string, command: string[]): { child: ChildProcess; out: () => string } {
    return this.track(spawn('nsenter', [`--net=/run/netns/${ns}`, '--', ...command], { stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  private track(child: ChildProcess): { child: ChildProcess; out: () => string } {
    this.children.add(child);
    let text = '';
    child.stdout!.on('data', (d) => (text += d));
    child.stderr!.on('data', (d) => (text += d));
    return { child, out: () => text };
  }

  private env(extra: Record<string, string> = {}) {
    return { ...process.env, NSVISOR_LEASE_DIR: this.leaseDir, ...extra };
  }

  /** The nsvisor CLI run inside this namespace, to its end. */
  cli(args: string[]) {
    const r = spawnSync('nsenter', [`--net=/run/netns/${this.name}`, '--', process.execPath, cliPath, ...args], { encoding: 'utf8', timeout: 60_000 * SLOWDOWN, env: this.env() });
    return { code: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
  }

  /** The nsvisor CLI run inside this namespace in the background; its output is collected in `out`. */
  background(args: string[], env: Record<string, string> = {}): { child: ChildProcess; out: () => string } {
    return this.track(spawn('nsenter', [`--net=/run/netns/${this.name}`, '--', process.execPath, cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: this.env(env) }));
  }

  /**
   * `nsvisor run` of these services and networks inside this namespace, with the control CLI, a SIGTERM stop and a
   * SIGKILL; `env` is added to its environment.
   */
  async supervise(services: Record<string, unknown>, networks: Record<string, unknown>, env: Record<string, string> = {}, supervisor: Record<string, unknown> = {}) {
    const config = writeConfig(services, supervisor);
    fs.appendFileSync(config.file, stringify({ networks }));
    return this.runConfig(config, env);
  }

  /** `nsvisor run` of a config supervise() wrote: again, for the successor of one crash() killed. */
  async runConfig(config: ReturnType<typeof writeConfig>, env: Record<string, string> = {}) {
    const { socket, file, dir, root } = config;
    const bg = this.background(['run', '-c', file], env);
    await waitFor(`the control socket (${bg.out()})`, () => fs.existsSync(socket) || bg.child.exitCode !== null);
    if (!fs.existsSync(socket)) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw new Error(`nsvisor run ended: ${bg.out()}`);
    }
    const ctl = (args: string[]) => cli([args[0], '--socket', socket, ...args.slice(1)]);
    const end = async (signal: NodeJS.Signals) => {
      if (bg.child.exitCode === null && bg.child.signalCode === null) {
        bg.child.kill(signal);
        await new Promise((r) => bg.child.once('exit', r));
      }
      fs.rmSync(dir, { recursive: true, force: true });
    };
    return {
      ctl,
      config,
      dir,
      /** The cgroup root of its services. */
      root,
      /** The supervisor's pid (nsenter execs it). */
      pid: bg.child.pid!,
      out: bg.out,
      status: () => JSON.parse(ctl(['status', '--json']).stdout) as any[],
      stop: () => end('SIGTERM'),
      kill: () => end('SIGKILL'),
      /** SIGKILL, its config and files left for a successor (runConfig). */
      crash: async () => {
        bg.child.kill('SIGKILL');
        if (bg.child.exitCode === null && bg.child.signalCode === null) await new Promise((r) => bg.child.once('exit', r));
      },
    };
  }

  async waitOutput(bg: { out: () => string }, pattern: RegExp): Promise<void> {
    await waitFor(`${pattern} in ${JSON.stringify(bg.out())}`, () => pattern.test(bg.out()));
  }

  /** Ends what a test left running, then the namespaces (with any bridge, veth or nft table left in them) and the lease files. */
  destroy(): void {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) killTree(c.pid!);
    spawnSync('ip', ['netns', 'del', this.name]);
    if (this.outsideName) spawnSync('ip', ['netns', 'del', this.outsideName]);
    fs.rmSync(this.leaseDir, { recursive: true, force: true });
  }
}

/** Leftover lease files (there should be none once every process let go). */
export function leaseFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) (e.isDirectory() ? walk(path.join(d, e.name)) : out.push(e.name));
  };
  walk(dir);
  return out;
}
