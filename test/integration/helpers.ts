// Shared tools for the root-only integration tests: run the CLI, hold a sandbox open, read /proc, wait for a condition.
import { spawn, spawnSync, SpawnSyncOptions } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import { sandbox, SandboxOptions, SandboxResult } from '../../src';
import type { IsolatedProcess } from '../../src/process/isolated-process';
import './session-root';

export const repoRoot = path.resolve(__dirname, '..', '..', '..');
const devNull = fs.openSync('/dev/null', 'r+');

export const cliPath = path.join(repoRoot, 'bin', 'nsvisor');

export function requireRoot(): void {
  if (process.geteuid!() !== 0) throw new Error('the integration tests need root (they create namespaces, mounts and cgroups)');
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], opts: SpawnSyncOptions = {}): CliResult {
  const r = spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8', timeout: 60_000 * SLOWDOWN, ...opts });
  return { code: r.status, signal: r.signal, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** cli() without blocking the event loop (a load generator of the test's own keeps running meanwhile). */
export function cliAsync(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const background = new Set<number>();

/** Starts the CLI (or the one at `bin`, a copy) in the background (for signals and parent-death tests); killBackground() ends what is left. */
export function cliBackground(args: string[], bin = cliPath) {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  background.add(child.pid!);
  child.on('exit', () => background.delete(child.pid!));
  return child;
}

/** A process in the background with its stdout and stderr gathered, and its exit code as a promise. */
export function watched(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => out };
}

/** SIGKILLs pid and all its descendants, deepest first. */
export function killTree(pid: number): void {
  for (const child of childrenOf(pid)) killTree(child);
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/** For afterEach: whatever a failed test left running in the background. */
export function killBackground(): void {
  for (const pid of background) killTree(pid);
}

/** The v2vm guest runs code 10-20x slower than the host: waits there are stretched to match. */
export const SLOWDOWN = process.env.V2VM ? 20 : 1;

type Probed<T> = T | undefined | null | false;

/** Polls `probe` every `pollMs` until it gives a truthy value (returned), or throws after `timeoutMs` (x SLOWDOWN). */
export async function waitFor<T>(what: string, probe: () => Probed<T> | Promise<Probed<T>>, timeoutMs = 20_000, pollMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs * SLOWDOWN;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** waitFor for probes that cost something (a query, a request): polled every 200 ms, 30 s by default. */
export function waitForAsync<T>(what: string, probe: () => Promise<Probed<T>>, timeoutMs = 30_000): Promise<T> {
  return waitFor(what, probe, timeoutMs, 200);
}

export function nsLink(pid: number | 'self', type: string): string {
  return fs.readlinkSync(`/proc/${pid}/ns/${type}`);
}

export function childrenOf(pid: number): number[] {
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

export function processState(pid: number): string | null {
  try {
    return /^State:\s+(\S)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1];
  } catch {
    return null;
  }
}

export function alive(pid: number): boolean {
  const s = processState(pid);
  return s !== null && s !== 'Z';
}

/**
 * Runs `opts` in a sandbox, calls `fn` with the running process once the command has executed,
 * then stops it with SIGKILL (unless fn ended it) and returns the result.
 */
export async function withSandbox(
  opts: SandboxOptions,
  fn: (proc: IsolatedProcess) => Promise<void>,
): Promise<SandboxResult> {
  let started!: (p: IsolatedProcess) => void;
  const ready = new Promise<IsolatedProcess>((r) => (started = r));
  const done = sandbox({ stdio: [devNull, devNull, devNull], ...opts, onStart: started });
  const proc = await Promise.race([ready, done.then((r) => Promise.reject(new Error(`sandbox ended early: ${JSON.stringify(r)}`)))]);
  try {
    await fn(proc);
  } finally {
    proc.kill('SIGKILL');
  }
  return done;
}

/** The host pid of the service's main process: nsvisor-init's only child at start. */
export async function mainPid(initPid: number): Promise<number> {
  return waitFor('the main process', () => childrenOf(initPid)[0]);
}

/** Host pids of the processes for which `match(pid)` holds; processes that vanish meanwhile are left out. */
export function processesWhere(match: (pid: number) => boolean): number[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => {
      try {
        return match(pid);
      } catch {
        return false;
      }
    });
}

export function mountinfo(pid: number | 'self' = 'self'): string {
  return fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8');
}
