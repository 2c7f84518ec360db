// Time from a new `nsvisor run` to every instance adopted (after a SIGKILL of the one that started them), against a cold start of the same services, and the time of `nsvisor upgrade`.
import { ChildProcess, spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { stringify } from 'yaml';

import { closeCgroupPool, openCgroups } from '../src/cgroup';
import { detectLayout } from '../src/cgroup/detect';
import { request } from '../src/control/client';
import { keeperDir } from '../src/service/keeper-files';
import { f2, pageOpening } from './cgroup-bench';
import { machineInfo } from './machine';

const CLI = path.join(__dirname, '..', '..', 'bin', 'nsvisor');

interface Row {
  services: number;
  coldSeconds: number;
  adoptSeconds: number;
  /** From the POST /v1/upgrade to its answer: the check that the program on disk starts. */
  upgradeCheckSeconds: number;
  /** From the POST to the last `adopted` line of the program executed again. */
  upgradeAdoptedSeconds: number;
  /** From the POST to the first status answer with every service running and adopted by the new program. */
  upgradeStatusSeconds: number;
  /** The CPU time (user + system) the supervisor process used over that span, old and new program: what load does not stretch. */
  upgradeCpuSeconds: number;
}

/** User + system CPU seconds of a process so far (/proc/PID/stat; an execve keeps counting). */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

/** A `nsvisor run -c file` whose output lines are counted as they come. */
class Run {
  readonly child: ChildProcess;
  private readonly lines: string[] = [];
  private waiters: (() => void)[] = [];

  constructor(file: string) {
    this.child = spawn(process.execPath, [CLI, 'run', '-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    const onData = (d: Buffer) => {
      text += d.toString();
      const lines = text.split('\n');
      text = lines.pop()!;
      this.lines.push(...lines);
      for (const w of this.waiters) w();
    };
    this.child.stdout!.on('data', onData);
    this.child.stderr!.on('data', onData);
  }

  /** How many lines so far: a mark for until(). */
  get mark(): number {
    return this.lines.length;
  }

  /** Resolves once `count` lines after `from` matched `line`; rejects if the supervisor ends first. */
  until(line: RegExp, count: number, from = 0): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.lines.slice(from).filter((l) => line.test(l)).length < count) return;
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve();
      };
      this.waiters.push(check);
      this.child.once('exit', (code, signal) => reject(new Error(`nsvisor run ended (${code ?? signal}) before ${count} lines matching ${line}: ${this.lines.slice(-5).join(' / ')}`)));
      check();
    });
  }

  ended(signal: NodeJS.Signals): Promise<void> {
    return new Promise<void>((resolve) => {
      this.child.removeAllListeners('exit');
      this.child.once('exit', () => resolve());
      this.child.kill(signal);
    });
  }
}

const since = (t0: number) => (performance.now() - t0) / 1000;

/** Asks status (one request at a time) until every service is running and, with `adoptedAfter`, adopted since then. */
async function untilAllRunning(socket: string, services: number, adoptedAfter?: number): Promise<void> {
  for (;;) {
    const r = await request(socket, 'GET', '/v1/status/').catch(() => null); // none answers between the execve and the new socket
    const rows: { state: string; adoptedAt: string | null }[] = r?.status === 200 ? r.body : [];
    const done = rows.filter((s) => s.state === 'running' && (adoptedAfter === undefined || (s.adoptedAt && Date.parse(s.adoptedAt) >= adoptedAfter)));
    if (done.length === services) return;
    await new Promise((res) => setTimeout(res, 20));
  }
}

async function measure(services: number): Promise<Row> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsvisor-bench-adopt-'));
  const root = `/nsvisor-bench-${crypto.randomBytes(4).toString('hex')}`;
  const file = path.join(dir, 'nsvisor.yaml');
  const socket = path.join(dir, 'c.sock');
  const config = {
    supervisor: { control: socket, logDir: path.join(dir, 'logs'), metrics: 'off', cgroupRoot: root, shutdownTimeout: '120s', adoptTimeout: '120s' },
    services: Object.fromEntries(Array.from({ length: services }, (_, i) => [`s${i}`, { command: ['sleep', '3600'] }])),
  };
  fs.writeFileSync(file, stringify(config));
  let live: Run | null = null;
  try {
    let t0 = performance.now();
    live = new Run(file);
    await live.until(/: ready \(pid/, services);
    const coldSeconds = since(t0);
    // Each state file is written before its ready line; the listing may still trail the last line.
    const states = () => fs.readdirSync(keeperDir(root)).filter((n) => n.endsWith('.json')).length;
    while (states() < services) await new Promise((r) => setImmediate(r));
    await live.ended('SIGKILL');

    t0 = performance.now();
    live = new Run(file);
    await live.until(/: adopted /, services);
    const adoptSeconds = since(t0);
    await untilAllRunning(socket, services);

    const mark = live.mark;
    const cpu0 = cpuSeconds(live.child.pid!);
    const wall = Date.now();
    t0 = performance.now();
    const answer = await request(socket, 'POST', '/v1/upgrade');
    if (answer.status !== 200) throw new Error(`upgrade refused: ${JSON.stringify(answer.body)}`);
    const upgradeCheckSeconds = since(t0);
    await live.until(/: adopted /, services, mark);
    const upgradeAdoptedSeconds = since(t0);
    await untilAllRunning(socket, services, wall);
    const upgradeStatusSeconds = since(t0);
    const upgradeCpuSeconds = cpuSeconds(live.child.pid!) - cpu0;
    return { services, coldSeconds, adoptSeconds, upgradeCheckSeconds, upgradeAdoptedSeconds, upgradeStatusSeconds, upgradeCpuSeconds };
  } finally {
    await live?.ended('SIGTERM');
    await openCgroups({ root, prepare: false }).removeRoot();
    await closeCgroupPool();
    fs.rmSync(path.dirname(keeperDir(root)), { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const sizes = (process.argv[2] ?? '10,100,1000').split(',').map(Number);
  const rows: Row[] = [];
  for (const n of sizes) {
    process.stderr.write(`adopt: ${n} services\n`);
    rows.push(await measure(n));
  }
  const load = os.loadavg()[0];
  const layout = detectLayout().kind;
  const page = [
    ...pageOpening('Adoption after a SIGKILL of the supervisor, against a cold start; upgrade in place', layout),
    `Each time runs from spawning \`nsvisor run\` (Node's start included) until its output has a \`ready\` line (cold)`,
    `or an \`adopted\` line (after a SIGKILL of the supervisor that started them) for every service; services are`,
    `\`sleep 3600\` with the default isolation. The upgrade (\`POST /v1/upgrade\` on the control socket, with every`,
    `service adopted and running) is timed from the request to its answer (the check that the program on disk`,
    `starts), to the last \`adopted\` line of the program executed again, and to the first status answer with every`,
    `service running and adopted by it (status asked one request at a time); "upgrade CPU" is the supervisor process's`,
    `user + system time over that last span (old and new program), which a loaded machine does not stretch as it`,
    `stretches wall times. 1-minute load average at the end: ${load.toFixed(1)} (${os.cpus().length} cpus).`,
    '',
    '| services | cold start (s) | adoption (s) | adoption / cold | upgrade: answer (s) | upgrade: all adopted (s) | upgrade: status all running (s) | upgrade CPU (s) |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) =>
      `| ${r.services} | ${f2(r.coldSeconds)} | ${f2(r.adoptSeconds)} | ${f2(r.adoptSeconds / r.coldSeconds)} | ${f2(r.upgradeCheckSeconds)} | ${f2(r.upgradeAdoptedSeconds)} | ${f2(r.upgradeStatusSeconds)} | ${f2(r.upgradeCpuSeconds)} |`),
    '',
  ];
  const results = path.join(__dirname, '..', '..', 'bench', 'results');
  fs.writeFileSync(path.join(results, 'adopt.md'), page.join('\n'));
  fs.writeFileSync(path.join(results, 'adopt.json'), `${JSON.stringify({ machine: machineInfo(), layout, loadAverage1m: load, rows }, null, 2)}\n`);
  process.stdout.write(page.join('\n'));
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
