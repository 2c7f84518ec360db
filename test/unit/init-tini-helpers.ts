// Tools for the tini-compatibility tests of build/Release/nsvisor-init: run it, watch its output, read /proc of what it started, end what is left.
import { ChildProcess, spawn, spawnSync, SpawnSyncOptions } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { killTree, repoRoot } from '../integration/helpers';

export { alive, childrenOf, waitFor } from '../integration/helpers';

export const INIT = path.join(repoRoot, 'build', 'Release', 'nsvisor-init');
export const BIN = path.join(repoRoot, 'bin', 'nsvisor');

export interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function run(file: string, args: string[], opts: SpawnSyncOptions = {}): Ran {
  const r = spawnSync(file, args, { encoding: 'utf8', timeout: 20_000, ...opts });
  if (r.error) throw r.error;
  return { code: r.status, signal: r.signal, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** nsvisor-init run to its end. */
export const init = (args: string[], opts: SpawnSyncOptions = {}) => run(INIT, args, opts);

/** A process started in the background: its output so far and its end. */
export interface Started {
  child: ChildProcess;
  pid: number;
  out: () => string;
  err: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started = new Set<number>();

export function start(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Started {
  const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  started.add(child.pid!);
  void exited.then(() => started.delete(child.pid!));
  return { child, pid: child.pid!, out: () => out, err: () => err, exited };
}

/** For afterEach: SIGKILL to whatever a test left running below the processes it started, then to them. */
export function endStarted(also: number[] = []): void {
  for (const pid of [...started, ...also]) killTree(pid);
}

/** One line "Key:\tvalue" of /proc/PID/status. */
export function statusField(pid: number | 'self', key: string): string {
  const m = new RegExp(`^${key}:\\s+(.*)$`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`/proc/${pid}/status: no ${key}`);
  return m[1];
}

/** A signal mask line of /proc/PID/status (SigIgn, SigBlk, SigCgt) as printed, parsed. */
export const maskOf = (line: string) => BigInt(`0x${line.trim()}`);

/** The bit of a signal in those masks. */
export const bit = (sig: NodeJS.Signals) => 1n << BigInt(os.constants.signals[sig] - 1);

/** The SigIgn and SigBlk lines a command (grep on its own /proc/self/status) printed. */
export function masksPrinted(stdout: string): { ign: bigint; blk: bigint } {
  const line = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\S+)$`, 'm').exec(stdout);
    if (!m) throw new Error(`no ${key} line in ${JSON.stringify(stdout)}`);
    return maskOf(m[1]);
  };
  return { ign: line('SigIgn'), blk: line('SigBlk') };
}

/** The command that prints its own signal state. */
export const PRINT_SIGNALS = ['grep', '-E', '^Sig(Blk|Ign)', '/proc/self/status'];

export const ppidOf = (pid: number) => Number(statusField(pid, 'PPid'));

/** The comm of pid, or null once it is gone. */
export function commOf(pid: number): string | null {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
}
