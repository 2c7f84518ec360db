// Tools for the supervisor tests: a config in a temp dir, a real `nsvisor run` in the background, the CLI aimed at its socket.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse, stringify } from 'yaml';

import { keeperDir } from '../../src/service/keeper-files';
import { removeTestRoot, testRoot } from './cgroup-helpers';
import { cli, cliBackground, CliResult, waitFor } from './helpers';

export interface RunningSupervisor {
  dir: string;
  file: string;
  /** Its cgroupRoot. */
  root: string;
  socket: string;
  child: ReturnType<typeof cliBackground>;
  output: () => string;
  exited: Promise<number | null>;
  /** The CLI with --socket of this supervisor appended. */
  ctl(args: string[]): CliResult;
  status(): any[];
}

/** The cgroup roots and directories of the configs written so far; removeRoots() deletes them (after their supervisors are gone). */
const roots = new Set<string>();
const dirs = new Set<string>();

export async function removeRoots(): Promise<void> {
  for (const root of roots) {
    await removeTestRoot(root);
    // What instances of a supervisor that was killed left for a successor (none came): their sockets and state files.
    fs.rmSync(path.dirname(keeperDir(root)), { recursive: true, force: true });
  }
  roots.clear();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

/** A config of these services; `extra` goes into its supervisor section, `top` beside it (networks). */
export function writeConfig(services: Record<string, unknown>, extra: Record<string, unknown> = {}, top: Record<string, unknown> = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'supervisor-'));
  dirs.add(dir);
  const root = testRoot();
  roots.add(root);
  const socket = path.join(dir, 'control.sock');
  const config = {
    supervisor: { control: socket, logDir: path.join(dir, 'logs'), metrics: 'off', shutdownTimeout: '20s', cgroupRoot: root, ...extra },
    services,
    ...top,
  };
  const file = path.join(dir, 'nsvisor.yaml');
  fs.writeFileSync(file, stringify(config));
  return { dir, socket, file, root };
}

export async function startRun(services: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<RunningSupervisor> {
  return runConfig(writeConfig(services, extra));
}

/** `nsvisor run` of a config writeConfig() made (again: a successor of a supervisor that died); `bin`: another copy of the CLI. */
export async function runConfig({ dir, socket, file, root }: { dir: string; socket: string; file: string; root: string }, bin?: string): Promise<RunningSupervisor> {
  const child = cliBackground(['run', '-c', file], bin);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  await waitFor(`the control socket (output so far: ${out})`, () => fs.existsSync(socket));
  const ctl = (args: string[]) => cli([args[0], '--socket', socket, ...args.slice(1)]);
  return {
    dir, file, root, socket, child, exited, ctl,
    output: () => out,
    status: () => JSON.parse(ctl(['status', '--json']).stdout),
  };
}

/**
 * `nsvisor run` again on the config of `first`, which was killed: its control socket file is still there, so this
 * waits for the line the new one prints once it has started its services.
 */
export async function runAgain(first: RunningSupervisor): Promise<RunningSupervisor> {
  const next = await runConfig(first);
  await waitFor('the new supervisor to start', () => /supervising \d+ services/.test(next.output()) || next.child.exitCode !== null, 60_000);
  return next;
}

/** SIGTERMs the supervisor, waits for it, removes its directory; returns its exit code. */
export async function stopRun(run: RunningSupervisor): Promise<number | null> {
  if (run.child.exitCode === null) run.child.kill('SIGTERM');
  const code = await run.exited;
  fs.rmSync(run.dir, { recursive: true, force: true });
  return code;
}

export const stateOf = (run: RunningSupervisor, name: string) => run.status().find((s: any) => s.name === name);

/** Rewrites the supervisor's file: `change` changes the parsed configuration in place. Returns the file. */
export function editConfig(run: RunningSupervisor, change: (config: any) => void): string {
  const config = parse(fs.readFileSync(run.file, 'utf8'));
  change(config);
  fs.writeFileSync(run.file, stringify(config));
  return run.file;
}

/** The memory limit file of a running service's cgroup (of its instance `name`), as the kernel has it. */
export function memoryLimit(run: RunningSupervisor, name: string, instance?: number): string {
  const s = stateOf(run, name);
  const procs: string[] = (instance === undefined ? s : s.instances[instance]).cgroupProcs;
  const dir = procs.map((p) => p.replace(/\/cgroup\.procs$/, '')).find((d) => fs.existsSync(`${d}/memory.max`) || fs.existsSync(`${d}/memory.limit_in_bytes`))!;
  return fs.readFileSync(fs.existsSync(`${dir}/memory.max`) ? `${dir}/memory.max` : `${dir}/memory.limit_in_bytes`, 'utf8').trim();
}
