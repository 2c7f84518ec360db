// What the scale bench asks of each supervisor it compares (nsvisor, supervisord, PM2), and the process plumbing they share.
import { ChildProcess, execFile, spawn } from 'child_process';
import * as fs from 'fs';

import { alive, descendantsOf, until } from './scale-proc';

export type Tool = 'nsvisor' | 'supervisord' | 'pm2';

/** One supervised program: a name and its command line. */
export interface ServiceDef {
  name: string;
  command: string[];
  /** Started again when it ends (the `sleep` services); the log writer runs once. */
  restart: boolean;
}

export interface Manager {
  tool: Tool;
  /** Starts the supervisor with these services; resolves once it is launched, before they all run. */
  launch(services: ServiceDef[]): Promise<void>;
  /** The pid of the process that supervises (PM2: its God daemon). */
  daemonPid(): number;
  /** Why the supervisor is gone (the end of its output), or null while it runs. */
  gone(): string | null;
  /** Runs the tool's own status command once: how many services it reports running. */
  runningCount(): Promise<number>;
  /** Stops every service and the supervisor the tool's way; resolves once it has exited. */
  stop(): Promise<void>;
  /** The file where a service's stdout lands. */
  logFile(name: string): string;
  /** Ends whatever is left (after a failure too) and removes the scratch files and cgroups. */
  cleanup(): Promise<void>;
}

/** Runs a command to its end; resolves with its stdout whatever the exit code (status commands exit non-zero while something is down). */
export function output(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, maxBuffer: 256 * 1024 * 1024, timeout: 120_000 }, (err, stdout) => {
      if (err && (err as { code?: unknown }).code === 'ENOENT') reject(err);
      else resolve(stdout);
    });
  });
}

/** Spawns a long-running supervisor with its output into `logTo`; the promise ends when it exits. */
export function daemon(file: string, args: string[], logTo: string, env: NodeJS.ProcessEnv = process.env): { child: ChildProcess; exited: Promise<void> } {
  const fd = fs.openSync(logTo, 'a');
  const child = spawn(file, args, { env, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  return { child, exited };
}

/** Null while `pid` runs, else the last lines the supervisor wrote to `outFile`. */
export function goneWith(pid: number, outFile: string): string | null {
  if (alive(pid)) return null;
  const text = fs.existsSync(outFile) ? fs.readFileSync(outFile, 'utf8') : '';
  return `exited; its output ends: ${text.trim().split('\n').slice(-15).join(' | ') || '(nothing)'}`;
}

/** Waits until the daemon and every process that was below it are gone. */
export async function waitGone(what: string, pid: number, below: number[], timeoutMs = 300_000): Promise<void> {
  await until(`${what}: every process gone`, () => !alive(pid) && below.every((p) => !alive(p)), timeoutMs, 10);
}

/** Stops a supervisor by a signal and waits for it and its services to be gone. */
export async function signalStop(what: string, child: ChildProcess, exited: Promise<void>): Promise<void> {
  const pid = child.pid!;
  const below = descendantsOf(pid);
  child.kill('SIGTERM');
  await exited;
  await waitGone(what, pid, below);
}

/** One argument as a POSIX shell word. */
export const shellWord = (s: string) => (/^[\w./=:-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
