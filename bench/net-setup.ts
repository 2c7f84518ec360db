// Per-service network setup (veth on the bridge, eth0 address, up, default route, lo up): rtnetlink against six `ip` processes, in a throwaway netns.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';

import { connect } from '../src/net/links';
import { addon } from '../src/native';
import { summarize, Summary } from './stats';

export interface NetSetupResult {
  rounds: { netlink: number; ip: number };
  netlink: Summary;
  ip: Summary;
  /** ip p50 / netlink p50. */
  speedup: number;
}

const BRIDGE = 'nsvbench0';
const GATEWAY = (10 << 24) + (99 << 16) + 1; // 10.99.0.1
const PREFIX = 16;
const SETTLE_MS = Number(process.env.BENCH_NET_SETTLE_MS ?? 20);

function ipText(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.trim()}`);
}

/** A process in a fresh network namespace to attach to; killed after the round. */
async function target() {
  const child = spawn('unshare', ['-n', 'sleep', '60'], { stdio: 'ignore' });
  await new Promise((r) => child.once('spawn', r));
  // unshare execs sleep in the same pid once the namespace exists: wait for that.
  while (fs.readlinkSync(`/proc/${child.pid}/exe`).endsWith('unshare')) await new Promise((r) => setTimeout(r, 1));
  return child;
}

/** connect() brings lo up along with eth0. */
function viaNetlink(pid: number, hostIf: string, address: number): void {
  connect({ pid, hostIf, bridge: BRIDGE, address, prefix: PREFIX, gateway: GATEWAY });
}

function viaIp(pid: number, hostIf: string, address: number): void {
  const inside = (...args: string[]) => run('nsenter', ['-t', String(pid), '-n', 'ip', ...args]);
  run('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', String(pid)]);
  run('ip', ['link', 'set', hostIf, 'master', BRIDGE, 'up']);
  inside('addr', 'add', `${ipText(address)}/${PREFIX}`, 'dev', 'eth0');
  inside('link', 'set', 'eth0', 'up');
  inside('link', 'set', 'lo', 'up');
  inside('route', 'add', 'default', 'via', ipText(GATEWAY));
}

/** The measurement itself; must run inside a network namespace of its own (see measureNetSetup). */
export async function measureHere(rounds: { netlink: number; ip: number }): Promise<NetSetupResult> {
  addon.netBridgeEnsure(BRIDGE, GATEWAY, PREFIX);
  const samples = { netlink: [] as number[], ip: [] as number[] };
  const total = rounds.netlink + rounds.ip;
  for (let i = 0; i < total; i++) {
    // Interleaved, so both methods see the same machine state over time.
    const method = i % Math.ceil(total / rounds.ip) === 0 && samples.ip.length < rounds.ip ? 'ip' : 'netlink';
    if (method === 'netlink' && samples.netlink.length >= rounds.netlink) continue;
    const child = await target();
    const hostIf = `nsvb-${i}`;
    const t0 = performance.now();
    (method === 'ip' ? viaIp : viaNetlink)(child.pid!, hostIf, GATEWAY + 1 + i);
    samples[method].push(performance.now() - t0);
    addon.netLinkDelete(hostIf, 0);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // The namespace is torn down in a kernel worker that takes the rtnl lock: let it finish outside the next sample.
    await new Promise((r) => setTimeout(r, SETTLE_MS));
  }
  addon.netLinkDelete(BRIDGE, 0);
  const netlink = summarize(samples.netlink);
  const ip = summarize(samples.ip);
  return { rounds: { netlink: samples.netlink.length, ip: samples.ip.length }, netlink, ip, speedup: ip.p50 / netlink.p50 };
}

/** Runs the measurement in a child process inside a throwaway network namespace, so no real interface is touched. */
export async function measureNetSetup(rounds = { netlink: 300, ip: 60 }): Promise<NetSetupResult> {
  const ns = `nsvbench-${process.pid}`;
  run('ip', ['netns', 'add', ns]);
  try {
    const r = spawnSync('nsenter', [`--net=/run/netns/${ns}`, '--', process.execPath, __filename, JSON.stringify(rounds)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`net-setup bench: ${r.stderr}`);
    return JSON.parse(r.stdout) as NetSetupResult;
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

export function netSetupMarkdown(r: NetSetupResult): string {
  const row = (name: string, s: Summary, n: number) => `| ${name} | ${n} | ${s.p50.toFixed(3)} | ${s.p90.toFixed(3)} | ${s.p99.toFixed(3)} |`;
  return [
    '## Per-service network setup (veth + bridge attach + address + eth0 up + lo up + default route)',
    '',
    '| method | rounds | p50 ms | p90 ms | p99 ms |',
    '|---|---|---|---|---|',
    row('rtnetlink (nsvisor, one thread)', r.netlink, r.rounds.netlink),
    row('six `ip` processes', r.ip, r.rounds.ip),
    '',
    `rtnetlink is ${r.speedup.toFixed(1)}x faster at p50. Target: p50 under 1 ms and at least 20x faster than \`ip\`.`,
  ].join('\n');
}

if (require.main === module) {
  measureHere(JSON.parse(process.argv[2])).then(
    (r) => process.stdout.write(JSON.stringify(r)),
    (e: Error) => {
      process.stderr.write(`${e.stack ?? e.message}\n`);
      process.exit(1);
    },
  );
}
