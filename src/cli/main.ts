// Entry point of the nsvisor command: builds the commander program from one module per command.
import { Command } from 'commander';

import { VERSION } from '../version';
import { reportError } from './errors';

interface CommandModule {
  register(program: Command): void;
}

/**
 * The command modules in the order of the help, each loaded only when needed: `nsvisor status` loads status
 * alone (and the control verbs, which are light), not the supervisor, the validator and the sandbox behind `run`.
 */
const COMMANDS: [string | null, () => CommandModule][] = [
  ['run', () => require('./run')],
  ['status', () => require('./status')],
  [null, () => require('./control-verbs')], // start, stop, restart, scale...: always
  ['reload', () => require('./reload')],
  ['logs', () => require('./logs')],
  ['exec', () => require('./exec')],
  ['check', () => require('./check')],
  ['sandbox', () => require('./sandbox')],
  ['init', () => require('./init')],
  ['ns', () => require('./ns')],
];

/** The program with every command, or (given the command line) only the one it names when it names one of COMMANDS. */
export function buildProgram(argv: string[] = []): Command {
  const program = new Command('nsvisor')
    .description('Run services in isolated Linux namespaces: a correct PID 1, supervision, limits and metrics.')
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride();
  const named = COMMANDS.some(([name]) => name !== null && name === argv[2]) ? argv[2] : null;
  for (const [name, load] of COMMANDS) if (named === null || name === null || name === named) load().register(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram(argv).parseAsync(argv);
  } catch (err) {
    process.exitCode = reportError(err);
  }
}
