// Reading and writing cgroup files with errors that name the file and the value, and the small waits cgroups need.
import * as fs from 'fs';
import * as path from 'path';

import { faultPoint } from '../fault/seam';

/** A cgroup operation that failed: the message names the file, what was written, and the kernel's reason. */
export class CgroupError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
    this.name = 'CgroupError';
  }
}

/** Whether e says the cgroup is gone (removed meanwhile, or being destroyed): nothing is left to kill or read. */
export function cgroupGone(e: unknown): boolean {
  return e instanceof CgroupError && (e.code === 'ENOENT' || e.code === 'ENODEV');
}

/** The kernel's reason in words ("Device or resource busy"), as strerror(3) gives it. */
const TEXT: Record<string, string> = {
  EBUSY: 'Device or resource busy', EINVAL: 'Invalid argument', ENOENT: 'No such file or directory',
  EACCES: 'Permission denied', EPERM: 'Operation not permitted', ENOTSUP: 'Operation not supported',
  EOPNOTSUPP: 'Operation not supported', ENOSPC: 'No space left on device', EEXIST: 'File exists',
  ENOTEMPTY: 'Directory not empty', ESRCH: 'No such process', EROFS: 'Read-only file system',
  EAGAIN: 'Resource temporarily unavailable', ENODEV: 'No such device', E2BIG: 'Argument list too long',
};

function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return (err.code && TEXT[err.code]) ?? err.code ?? err.message;
}

export function writeFile(file: string, value: string): void {
  try {
    fs.writeFileSync(file, value);
  } catch (e) {
    throw new CgroupError(`${file}: write "${value}": ${reason(e)}`, (e as NodeJS.ErrnoException).code);
  }
}

/** writeFile() of a resource limit (memory.max, cpu.max, ...). */
export function writeLimit(file: string, value: string): void {
  try {
    faultPoint('cgroup.limit', file);
    fs.writeFileSync(file, value);
  } catch (e) {
    throw new CgroupError(`${file}: write "${value}": ${reason(e)}`, (e as NodeJS.ErrnoException).code);
  }
}

export function readFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new CgroupError(`${file}: read: ${reason(e)}`, (e as NodeJS.ErrnoException).code);
  }
}

/**
 * The file's text, or null when it is not there: absent (ENOENT), or its cgroup removed while we read it (ENODEV,
 * what cgroupfs answers for a file of a cgroup being destroyed, as when a kill polls while the instance's end removes it).
 */
export function readIfExists(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENODEV') return null;
    throw new CgroupError(`${file}: read: ${reason(e)}`, (e as NodeJS.ErrnoException).code);
  }
}

export function exists(p: string): boolean {
  return fs.existsSync(p);
}

/**
 * Makes dir and the parents it lacks, one level at a time: Node's recursive mkdir answers ENOENT for a level it could
 * not make whatever the kernel said (EROFS on a cgroup tree a container runtime mounted read-only, EACCES, ...).
 */
export function mkdir(dir: string): void {
  try {
    faultPoint('cgroup.create', dir);
    try {
      return mkdirLevel(dir); // the parent is there (a service's cgroup under its root): one mkdir(2)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const missing: string[] = [];
    for (let d = path.resolve(dir); !fs.existsSync(d) && d !== path.dirname(d); d = path.dirname(d)) missing.unshift(d);
    for (const d of missing) mkdirLevel(d);
  } catch (e) {
    throw new CgroupError(`${dir}: mkdir: ${reason(e)}`, (e as NodeJS.ErrnoException).code);
  }
}

/** One mkdir(2); a directory made meanwhile (by another supervisor's start) is fine. */
function mkdirLevel(dir: string): void {
  try {
    fs.mkdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || !fs.statSync(dir).isDirectory()) throw e;
  }
}

/** Pids listed in a cgroup.procs file (empty when the cgroup is gone). */
export function pidsIn(procsFile: string): number[] {
  const text = readIfExists(procsFile) ?? '';
  return text.split('\n').filter(Boolean).map(Number);
}

/** Sub-cgroups of a cgroup directory. */
export function children(dir: string): string[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new CgroupError(`${dir}: readdir: ${reason(e)}`, (e as NodeJS.ErrnoException).code);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `done()` or the timeout; returns whether it got done. */
export async function until(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (done()) return true;
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
}

/**
 * One rmdir of a cgroup directory on libuv's thread pool (the kernel may take milliseconds over it): true once it is
 * gone (ENOENT: gone already), false when the kernel says it is busy (a task or a sub-cgroup in it, or its last task
 * still being released); any other refusal throws a CgroupError naming the directory.
 */
export async function removeIfIdle(dir: string): Promise<boolean> {
  try {
    faultPoint('cgroup.destroy', dir);
    await fs.promises.rmdir(dir);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return true;
    if (code === 'EBUSY') return false;
    throw new CgroupError(`${dir}: rmdir: ${reason(e)}`, code);
  }
}

/** The directories of `dirs` that one rmdir each (all at once) did not remove because they are busy. */
export async function removeIdle(dirs: string[]): Promise<string[]> {
  const removed = await Promise.all(dirs.map(removeIfIdle));
  return dirs.filter((_, i) => !removed[i]);
}

/**
 * Removes a cgroup directory and its sub-cgroups, deepest first. It is tried first as it is (an instance's cgroup
 * seldom has sub-cgroups): only a busy one is listed. A cgroup whose last task is still being released answers
 * EBUSY for a moment: retried until the timeout.
 */
export async function removeTree(dir: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await removeIfIdle(dir))) {
    if (Date.now() > deadline) throw new CgroupError(`${dir}: rmdir: ${TEXT.EBUSY}`, 'EBUSY');
    const subs = children(dir);
    for (const c of subs) await removeTree(`${dir}/${c}`, timeoutMs);
    if (!subs.length) await sleep(10);
  }
}

/** SIGKILL to a pid that belongs to a cgroup of ours; a pid that is already gone is fine. */
export function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

/** rmdir of a cgroup that never held a process (undoing a failed create); errors are left to cleanupStale. */
export function removeEmpty(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch {
    /* cleanupStale removes it later */
  }
}
