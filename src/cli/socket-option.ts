// The --socket / -c options of the commands that talk to a running supervisor, and which socket they mean.
import { Command } from 'commander';

import * as fs from 'fs';

import { defaultControlPath } from '../config/control-path';

export interface SocketFlags {
  socket?: string;
  config?: string;
}

export function withSocketOptions(cmd: Command): Command {
  return cmd
    .option('--socket <path>', 'control socket of the supervisor (default: the one of -c FILE, else the default path)')
    .option('-c, --config <file>', "the supervisor's configuration file, to find its control socket");
}

/** --socket PATH, else the control socket of the configuration given with -c, else the default path. */
export async function resolveSocket(flags: SocketFlags): Promise<string> {
  if (flags.socket) return flags.socket;
  // The validator and the YAML parser only when a file is named: `status --socket` of 1,000 services starts in a tenth of the time.
  if (flags.config) return (await (await import('../config/load')).loadConfig(flags.config)).supervisor.control;
  return defaultControlPath();
}

/**
 * The control socket a file names (supervisor.control), read without validating the rest: a file being reloaded may
 * be invalid, and the supervisor says why. The default path when it names none or cannot be read.
 */
export function controlOfFile(file: string | null): string {
  if (file === null) return defaultControlPath();
  try {
    const YAML = require('yaml') as typeof import('yaml');
    const control = YAML.parse(fs.readFileSync(file, 'utf8'))?.supervisor?.control;
    if (typeof control === 'string' && control.startsWith('/')) return control;
  } catch {
    /* unreadable or not YAML: the supervisor will say so */
  }
  return defaultControlPath();
}
