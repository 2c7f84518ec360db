// loadConfig() on a worker thread, for a supervisor that reloads while its services run: the event loop stays free meanwhile.
import * as path from 'path';
import { Piscina } from 'piscina';

import type { ConfigLoadResult } from '../workers/config-load';
import { ConfigError } from './issues';
import type { Config } from './schema';

const TASK_FILE = path.resolve(__dirname, '..', 'workers', 'config-load.js');

let pool: Piscina | null = null;

/** Reads and validates `file` off the event loop; rejects with a ConfigError listing every problem. */
export async function loadConfigOffLoop(file: string): Promise<Config> {
  // One thread, made on first use and gone once idle: reloads are rare.
  pool ??= new Piscina({ filename: TASK_FILE, minThreads: 0, maxThreads: 1, idleTimeout: 5_000 });
  const r: ConfigLoadResult = await pool.run(path.resolve(file));
  if (!r.ok) throw new ConfigError(r.problems);
  return r.config;
}

/** Ends the thread, if any (shutdown). */
export async function closeConfigPool(): Promise<void> {
  const p = pool;
  pool = null;
  await p?.destroy();
}
