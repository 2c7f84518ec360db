// Piscina task: read and validate a configuration file on a worker thread (a thousand services take the parser a tenth of a second).
import { ConfigError } from '../config/issues';
import { loadConfig } from '../config/load';
import type { Config } from '../config/schema';

export type ConfigLoadResult = { ok: true; config: Config } | { ok: false; problems: string[] };

export default async function run(file: string): Promise<ConfigLoadResult> {
  try {
    return { ok: true, config: await loadConfig(file) };
  } catch (e) {
    if (e instanceof ConfigError) return { ok: false, problems: e.problems };
    throw e;
  }
}
