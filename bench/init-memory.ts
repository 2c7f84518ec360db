// nsvisor-init's memory: PSS from /proc/PID/smaps_rollup of running instances, against tini's measured the same way.
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';

import { sandbox, SandboxResult } from '../src';
import type { IsolatedProcess } from '../src/process/isolated-process';

export interface MemoryResult {
  label: string;
  command: string;
  instances: number;
  /** Averages over the instances, in KiB. */
  pssKb: number | null;
  rssKb: number | null;
  /** Private_Clean + Private_Dirty (USS). */
  privateKb: number | null;
  /** Every process started was seen gone afterwards. */
  allGone: boolean | null;
  skipped: string | null;
}

interface Rollup {
  pss: number;
  rss: number;
  private: number;
}

/** A process as it was when we saw it: pid plus start time, so a reused pid is not mistaken for it. */
interface Seen {
  pid: number;
  start: string;
}

const devNull = fs.openSync('/dev/null', 'r+');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readRollup(pid: number): Rollup {
  const kb = (text: string, key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  const text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return { pss: kb(text, 'Pss'), rss: kb(text, 'Rss'), private: kb(text, 'Private_Clean') + kb(text, 'Private_Dirty') };
}

function startTime(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return null;
  }
}

function see(pid: number): Seen {
  const start = startTime(pid);
  if (start === null) throw new Error(`process ${pid} is gone before it could be measured`);
  return { pid, start };
}

const alive = (s: Seen) => startTime(s.pid) === s.start;

function childrenOf(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Waits until pid has a child running `comm` (the sleep); returns it. */
async function waitForChild(pid: number, comm: string): Promise<Seen> {
  for (let i = 0; i < 200; i++) {
    for (const c of childrenOf(pid)) {
      try {
        if (fs.readFileSync(`/proc/${c}/comm`, 'utf8').trim() === comm) return see(c);
      } catch {
        /* gone meanwhile */
      }
    }
    await sleep(10);
  }
  throw new Error(`process ${pid} did not start ${comm}`);
}

/** Waits up to ms for every process to be gone; true when they are. */
async function allEnd(seen: Seen[], ms: number): Promise<boolean> {
  for (let waited = 0; waited <= ms; waited += 20) {
    if (!seen.some(alive)) return true;
    await sleep(20);
  }
  return !seen.some(alive);
}

function average(rollups: Rollup[]): Pick<MemoryResult, 'pssKb' | 'rssKb' | 'privateKb'> {
  const avg = (k: keyof Rollup) => rollups.reduce((a, r) => a + r[k], 0) / rollups.length;
  return { pssKb: avg('pss'), rssKb: avg('rss'), privateKb: avg('private') };
}

function startSleeper(): Promise<{ proc: IsolatedProcess; done: Promise<SandboxResult> }> {
  return new Promise((resolve, reject) => {
    const done: Promise<SandboxResult> = sandbox({
      command: ['sleep', '30'],
      stdio: [devNull, devNull, devNull],
      onStart: (proc) => resolve({ proc, done }),
    });
    done.then((r) => reject(new Error(`nsvisor sandbox ended before it started: ${r.reason} ${r.error ?? ''}`)), reject);
  });
}

export async function measureNsvisorInit(instances: number, settleMs: number): Promise<MemoryResult> {
  const running: { proc: IsolatedProcess; done: Promise<SandboxResult> }[] = [];
  const seen: Seen[] = [];
  try {
    for (let i = 0; i < instances; i++) {
      const r = await startSleeper();
      running.push(r);
      seen.push(see(r.proc.pid), await waitForChild(r.proc.pid, 'sleep'));
    }
    await sleep(settleMs);
    const rollups = running.map((r) => readRollup(r.proc.pid));
    return { label: 'nsvisor-init', command: 'sandbox({ command: [sleep, 30] }) (default isolate)', instances, ...average(rollups), allGone: null, skipped: null };
  } finally {
    for (const r of running) r.proc.kill('SIGTERM');
    const ended = await Promise.race([Promise.all(running.map((r) => r.done)).then(() => true), sleep(5000).then(() => false)]);
    if (!ended) for (const r of running) r.proc.kill('SIGKILL');
    await Promise.all(running.map((r) => r.done));
    if (!(await allEnd(seen, 5000))) throw new Error(`nsvisor-init bench: still running after kill: ${seen.filter(alive).map((s) => s.pid).join(' ')}`);
  }
}

/** tini at `file` (null: none to be had, skipped). */
export async function measureTini(instances: number, settleMs: number, file: string | null): Promise<MemoryResult> {
  const label = 'tini';
  const command = 'tini -- sleep 30 (child_process)';
  if (!file) return { label, command, instances: 0, pssKb: null, rssKb: null, privateKb: null, allGone: null, skipped: 'tini not installed, skipped' };
  const children: ChildProcess[] = [];
  const seen: Seen[] = [];
  try {
    for (let i = 0; i < instances; i++) {
      const child = spawn(file, ['--', 'sleep', '30'], { stdio: 'ignore' });
      children.push(child);
      await new Promise<void>((resolve, reject) => child.once('spawn', resolve).once('error', reject));
      seen.push(see(child.pid!), await waitForChild(child.pid!, 'sleep'));
    }
    await sleep(settleMs);
    const rollups = children.map((c) => readRollup(c.pid!));
    return { label, command, instances, ...average(rollups), allGone: null, skipped: null };
  } finally {
    const exits = children.map((c) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', r))));
    for (const c of children) c.kill('SIGTERM'); // tini forwards it to sleep and exits with it
    await Promise.race([Promise.all(exits), sleep(5000)]);
    for (const s of seen.filter(alive)) process.kill(s.pid, 'SIGKILL'); // only pids we started (tini and its sleep)
    if (!(await allEnd(seen, 5000))) throw new Error(`tini bench: still running after kill: ${seen.filter(alive).map((s) => s.pid).join(' ')}`);
  }
}

/** Both measurements, each followed by the check that everything it started has gone; tini is the one at `tiniFile`. */
export async function measureInitMemory(instances: number, settleMs: number, tiniFile: string | null): Promise<MemoryResult[]> {
  const nsvisor = await measureNsvisorInit(instances, settleMs);
  nsvisor.allGone = true; // measureNsvisorInit throws otherwise
  const tini = await measureTini(instances, settleMs, tiniFile);
  if (!tini.skipped) tini.allGone = true;
  return [nsvisor, tini];
}
