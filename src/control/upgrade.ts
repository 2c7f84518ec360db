// `nsvisor upgrade`: the supervisor executes its program from disk again in place (same pid); its instances outlive the old program and the new one adopts them.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import { addon } from '../native';

/** An upgrade that cannot be done: nothing was changed. */
export class UpgradeError extends Error {}

interface Outcome {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  error?: Error;
}

/** Runs a command to its end without blocking the event loop (the supervisor goes on serving meanwhile). */
function runToEnd(cmd: string, args: string[], timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    // NSVISOR_DEBUG: a failure to load prints its stack, which names the file (and line) that broke.
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NSVISOR_DEBUG: '1' }, timeout: timeoutMs });
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (d) => (out.stdout += d));
    child.stderr.on('data', (d) => (out.stderr += d));
    child.on('error', (error) => resolve({ status: null, signal: null, ...out, error }));
    child.on('close', (status, signal) => resolve({ status, signal, ...out }));
  });
}

/**
 * What made a program fail to load, from its stderr: the error's own line (`SyntaxError: ...`, `Error: Cannot find
 * module ...`) and where: the file and line a syntax error is in, or the file whose require failed.
 */
export function loadFailure(stderr: string): string | null {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const error = lines.find((l) => /^\w*Error\b/.test(l));
  if (!error) return null;
  const at = lines.find((l) => /^\/\S+:\d+$/.test(l));
  if (at) return `${error} at ${at}`;
  const by = lines.find((l) => /^- \/\S+$/.test(l));
  return by ? `${error} (required by ${by.slice(2)})` : error;
}

/** Runs CMD ARGS... of the program on disk; its stdout, or an UpgradeError naming what failed. */
async function startsWith(cmd: string, args: string[]): Promise<string> {
  const r = await runToEnd(cmd, args, 30_000);
  if (r.status === 0) return r.stdout.trim();
  const lines = r.stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const why = r.error?.message ?? loadFailure(r.stderr) ?? lines[0] ?? `exit ${r.status ?? r.signal}`;
  throw new UpgradeError(`the new program does not start (${[cmd, ...args].join(' ')}): ${why}; nothing was changed`);
}

/** The nsvisor-init of the program whose entry is `entry`, found as bin/nsvisor finds it: beside the real file, in ../build/Release. */
export function initOf(entry: string): string {
  let real = entry;
  try {
    real = fs.realpathSync(entry);
  } catch {
    /* a missing entry: its own check says so */
  }
  return path.join(path.dirname(real), '..', 'build', 'Release', 'nsvisor-init');
}

/**
 * Checks that an upgrade can keep every service: the instances must outlive the old program (adoptTimeout > 0), none
 * that runs may be one the new program cannot adopt (`notAdoptable`: each "NAME (why)"), and the program on disk must
 * start: `node ENTRY --version` loads every command module (the supervisor's included) and the addon, and its
 * nsvisor-init must run (`--version`), and the configuration file it will read at start (`configFile`, null for the
 * built-in demo) must pass its `check --schema-only`, else the new program would end at start. Resolves with the new
 * program's version; rejects with an UpgradeError saying why not.
 */
export async function checkUpgrade(adoptTimeout: number, argv: readonly string[] = process.argv, notAdoptable: string[] = [], configFile: string | null = null): Promise<string> {
  if (adoptTimeout <= 0) throw new UpgradeError('upgrade needs supervisor.adoptTimeout > 0: with 0 the services would end with the old program');
  if (notAdoptable.length) {
    throw new UpgradeError(`upgrade would restart ${notAdoptable.join(', ')}, which cannot be adopted; nothing was changed`);
  }
  // Both at once; the first that failed, in this order, is the one reported (the same every time).
  const [version, init, config] = await Promise.allSettled([
    startsWith(argv[0], [argv[1], '--version']),
    startsWith(initOf(argv[1]), ['--version']),
    configFile === null ? Promise.resolve() : configPasses(argv, configFile),
  ]);
  if (version.status === 'rejected') throw version.reason;
  if (init.status === 'rejected') throw init.reason;
  if (config.status === 'rejected') throw config.reason;
  return version.value;
}

/** The new program's `check --schema-only` of `file` (the host checks would count this supervisor's own services as problems). */
async function configPasses(argv: readonly string[], file: string): Promise<void> {
  const r = await runToEnd(argv[0], [argv[1], 'check', '--schema-only', '-c', file], 30_000);
  if (r.status === 0) return;
  // check prints "FILE: N problems" and then one problem a line.
  const problems = r.stdout.split('\n').slice(1).map((l) => l.trim()).filter(Boolean);
  const why = problems.length ? problems.join('; ') : r.error?.message ?? (r.stderr.trim() || `exit ${r.status ?? r.signal}`);
  throw new UpgradeError(`the configuration the new program would read at start is not valid (${file}): ${why}; nothing was changed`);
}

/**
 * Replaces this process with the program on disk, same pid and arguments, Node's own options included (bin/nsvisor
 * gives it --max-semi-space-size, which process.argv leaves out): every fd but 0-2 closes, so each instance's
 * nsvisor-init sees its status pipe hang up and waits to be adopted, which the new program does at start.
 */
export function reexec(argv: readonly string[] = process.argv, nodeOptions: readonly string[] = process.execArgv): never {
  const env = Object.entries(process.env).map(([k, v]) => `${k}=${v}`);
  return addon.execve(argv[0], [argv[0], ...nodeOptions, ...argv.slice(1)], env);
}
