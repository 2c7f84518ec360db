// One tool in the scale bench: N quiet services (start, memory, idle CPU and wakeups, status latency, stop), or one fast log writer.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import { Manager, ServiceDef } from './scale-manager';
import { cpuSeconds, memoryOf, switchesOf, until } from './scale-proc';

export interface ScaleRun {
  tool: string;
  services: number;
  /** From launching the supervisor to the first status that reports every service running. */
  startSeconds: number;
  rssBytes: number;
  pssBytes: number;
  /** The supervisor's CPU over the idle window, in % of one CPU. */
  idleCpuPercent: number;
  /** Context switches of the supervisor's threads per second over that window. */
  idleSwitchesPerSecond: number;
  /** Median wall time of the status command, in ms. */
  statusMs: number;
  /** From asking for the stop to the supervisor and every service being gone. */
  stopSeconds: number;
}

export interface LogRun {
  tool: string;
  lines: number;
  /** From releasing the writer to its last line being in the log file. */
  wallSeconds: number;
  /** The supervisor's CPU meanwhile, per line, in µs. */
  cpuMicrosPerLine: number;
}

export interface MeasureOptions {
  idleSeconds: number;
  statusRounds: number;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Launches the services and polls the tool's status until all of them run; the seconds that took. */
async function startAll(m: Manager, services: ServiceDef[]): Promise<number> {
  const t0 = performance.now();
  await m.launch(services);
  await until(
    `${m.tool}: ${services.length} services running`,
    async () => {
      const gone = m.gone();
      if (gone) throw new Error(`${m.tool}: ${gone}`);
      return (await m.runningCount()) === services.length;
    },
    600_000,
    50,
  );
  return (performance.now() - t0) / 1000;
}

/** What a supervisor costs while its `n` services sleep. */
export async function measureQuiet(m: Manager, n: number, o: MeasureOptions): Promise<ScaleRun> {
  const services = Array.from({ length: n }, (_, i) => ({ name: `s${i}`, command: ['sleep', 'infinity'], restart: true }));
  const startSeconds = await startAll(m, services);
  process.stderr.write(`  ${m.tool} ${n}: all running after ${startSeconds.toFixed(2)} s; idle ${o.idleSeconds} s\n`);
  // The start over: the stats threads a status started ended (10 s idle), and the one collection V8 makes to give back
  // the memory of a burst (about 45 s after it here, 0.25 s of CPU at 1,000 services) done.
  await pause(60_000);
  const pid = m.daemonPid();
  const cpu0 = cpuSeconds(pid);
  const sw0 = switchesOf(pid);
  const t0 = performance.now();
  await pause(o.idleSeconds * 1000);
  const idle = (performance.now() - t0) / 1000;
  const idleCpuPercent = ((cpuSeconds(pid) - cpu0) / idle) * 100;
  const idleSwitchesPerSecond = (switchesOf(pid) - sw0) / idle;
  const { rss, pss } = memoryOf(pid); // at the end of the idle window: what the supervisor keeps, not what its start left
  const times: number[] = [];
  for (let i = 0; i < o.statusRounds; i++) {
    const t = performance.now();
    const running = await m.runningCount();
    times.push(performance.now() - t);
    if (running !== n) throw new Error(`${m.tool}: status reports ${running} of ${n} services running`);
  }
  process.stderr.write(`  ${m.tool} ${n}: status ${median(times).toFixed(0)} ms; stopping\n`);
  const t1 = performance.now();
  await m.stop();
  const stopSeconds = (performance.now() - t1) / 1000;
  return { tool: m.tool, services: n, startSeconds, rssBytes: rss, pssBytes: pss, idleCpuPercent, idleSwitchesPerSecond, statusMs: median(times), stopSeconds };
}

/** Whether the file's last line is `last` (alone, or after a timestamp and a space). */
function endsWithLine(file: string, last: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return false;
  }
  try {
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(size, 64));
    fs.readSync(fd, buf, 0, buf.length, size - buf.length);
    const text = buf.toString('latin1');
    return text.endsWith(`\n${last}\n`) || text.endsWith(` ${last}\n`);
  } finally {
    fs.closeSync(fd);
  }
}

/** One service printing `lines` short lines (seq) as fast as it can once released through a FIFO, until the last is in its log file. */
export async function measureLogs(m: Manager, dir: string, lines: number): Promise<LogRun> {
  const fifo = path.join(dir, 'go.fifo');
  execFileSync('mkfifo', ['-m', '0666', fifo]);
  await startAll(m, [{ name: 'writer', command: ['sh', '-c', `read go < ${fifo}; exec seq ${lines}`], restart: false }]);
  await pause(2000); // the supervisor's own start is over before the window opens
  const pid = m.daemonPid();
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  fs.writeFileSync(fifo, 'go\n'); // the writer waits on the other end
  await until(`${m.tool}: line ${lines} in ${m.logFile('writer')}`, () => endsWithLine(m.logFile('writer'), String(lines)), 300_000, 5);
  const wallSeconds = (performance.now() - t0) / 1000;
  const cpuMicrosPerLine = ((cpuSeconds(pid) - cpu0) * 1e6) / lines;
  await m.stop();
  return { tool: m.tool, lines, wallSeconds, cpuMicrosPerLine };
}
