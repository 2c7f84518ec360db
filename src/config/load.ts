// Finding and reading the configuration file: YAML (or JSON) text in, a validated Config out, or every problem at once.
import * as fs from 'fs';
import * as path from 'path';
import YAML from 'yaml';

import { demoConfig } from './demo';
import { ConfigError } from './issues';
import { Config, validateConfig } from './schema';

export const DEFAULT_CONFIG_FILE = 'nsvisor.yaml';

export type ConfigSource = { kind: 'file'; path: string } | { kind: 'demo' };

/** `-c FILE` if given, else ./nsvisor.yaml when it exists, else the built-in demo (SPEC section 1, `run`). */
export function resolveConfigSource(opt?: string, cwd: string = process.cwd()): ConfigSource {
  if (opt !== undefined) return { kind: 'file', path: opt };
  const local = path.join(cwd, DEFAULT_CONFIG_FILE);
  if (!fs.existsSync(local)) return { kind: 'demo' };
  return { kind: 'file', path: path.resolve(cwd) === process.cwd() ? DEFAULT_CONFIG_FILE : local };
}

/** Validates YAML text; `file` names it in syntax errors (`file:line:col: message`). */
export function parseConfigText(text: string, file: string): Config {
  const lines = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const at = lines.linePos(e.pos[0]);
        return `${file}:${at.line}:${at.col}: ${e.message}`;
      }),
    );
  }
  const data = doc.toJS();
  if (data === null || data === undefined) throw new ConfigError([`${file}: the file is empty; it needs at least a services section`]);
  return validateConfig(data);
}

/** Reads and validates a configuration file; rejects with a ConfigError listing every problem. */
export async function loadConfig(file: string): Promise<Config> {
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message;
    throw new ConfigError([`${file}: cannot read: ${why}`]);
  }
  return parseConfigText(text, file);
}

/** The configuration a source names: the file's, or the built-in demo's. */
export async function loadConfigSource(source: ConfigSource): Promise<Config> {
  return source.kind === 'file' ? loadConfig(source.path) : validateConfig(demoConfig());
}

/** How a source is named in messages: its path, or "(built-in demo)". */
export function sourceName(source: ConfigSource): string {
  return source.kind === 'file' ? source.path : '(built-in demo)';
}

/** "FILE: N problems" and then each problem on its own line: how `check` (and `run`) show a ConfigError. */
export function problemReport(name: string, problems: string[]): string {
  const n = problems.length;
  return `${name}: ${n} problem${n === 1 ? '' : 's'}\n${problems.map((p) => `${p}\n`).join('')}`;
}
