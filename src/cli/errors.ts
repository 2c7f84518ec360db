// How every command turns an error into a message on stderr and an exit code (SPEC section 1, "Exit codes").
import { CommanderError } from 'commander';

/** A failure the user can act on; `exitCode` follows the SPEC for the command that raised it. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

/** Bad arguments or configuration: exit 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** Prints `nsvisor: MESSAGE` and returns the exit code to use. */
export function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // commander has printed its message already; --help and --version are successes, the rest usage errors.
    return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? 0 : 2;
  }
  if (err instanceof CliError) {
    process.stderr.write(`nsvisor: ${err.message}\n`);
    return err.exitCode;
  }
  const e = err as NodeJS.ErrnoException;
  process.stderr.write(`nsvisor: ${e?.message ?? String(err)}\n`);
  if (process.env.NSVISOR_DEBUG && e?.stack) process.stderr.write(`${e.stack}\n`);
  return 1;
}
