// The outside programs the bench compares against: finding them on PATH, their versions, running one to its exit.
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/** Absolute path of an executable on PATH, or null when it is not installed. */
export function findExecutable(name: string): string | null {
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      /* not here */
    }
  }
  return null;
}

/** First line of `file --version`, or null. */
export function versionOf(file: string | null): string | null {
  if (!file) return null;
  try {
    const out = execFileSync(file, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5000 });
    return out.split('\n')[0].trim() || null;
  } catch {
    return null;
  }
}

/** Runs file through child_process.spawn with stdio on /dev/null; resolves with the wall time in ms once it has exited 0. */
export function timeToExit(file: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(file, args, { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code === 0) resolve(ms);
      else reject(new Error(`${[file, ...args].join(' ')} ended with ${signal ?? `exit code ${code}`}`));
    });
  });
}
