// Entry point of the nsvisor command: builds the commander program from one module per command.
import { Command } from 'commander';

import { reportError } from './errors';
import * as checkCommand from './check';
import * as controlVerbs from './control-verbs';
import * as execCommand from './exec';
import * as initCommand from './init';
import * as logsCommand from './logs';
import * as nsCommand from './ns';
import * as reloadCommand from './reload';
import * as runCommand from './run';
import * as sandboxCommand from './sandbox';
import * as statusCommand from './status';

export function buildProgram(): Command {
  const program = new Command('nsvisor')
    .description('Run services in isolated Linux namespaces: a correct PID 1, supervision, limits and metrics.')
    .version(require('../../../package.json').version)
    .showHelpAfterError()
    .exitOverride();
  for (const cmd of [runCommand, statusCommand, controlVerbs, reloadCommand, logsCommand, execCommand, checkCommand, sandboxCommand, initCommand, nsCommand]) cmd.register(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    process.exitCode = reportError(err);
  }
}
