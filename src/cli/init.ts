// `nsvisor init [-g] [-e CODE] -- CMD`: become nsvisor-init (tini-compatible) for a container entrypoint.
import { Command } from 'commander';

import { addon, initPath } from '../native';
import { UsageError } from './errors';

export function register(program: Command): void {
  program
    .command('init')
    .description("tini-compatible init: forward signals to CMD, reap orphans, exit with CMD's status")
    .usage('[-g] [-e CODE]... [--drain DURATION] -- CMD [ARG...]')
    .argument('[command...]', 'the command and its arguments, after --')
    .option('-g', "forward signals to CMD's process group, not only to CMD")
    .option('-e <code>', 'report exit code CODE as 0 (repeatable)', (v: string, prev: string[]) => [...prev, v], [])
    .option('--drain <ms>', 'after CMD exits, signal what is left and wait up to MS milliseconds', '5000')
    .addHelpText(
      'after',
      `
When not PID 1, it registers as a child subreaper so orphans still come to it.
Exit status: CMD's, 128+N when CMD was killed by signal N, 0 for a code given with -e.`,
    )
    .action((command: string[], flags: { g?: boolean; e: string[]; drain: string }) => {
      if (command.length === 0) throw new UsageError('init: missing the command to run (nsvisor init [-g] [-e CODE] -- CMD)');
      for (const code of flags.e) {
        if (!/^\d+$/.test(code) || Number(code) > 255) throw new UsageError(`init -e ${code}: expected an exit code 0-255`);
      }
      if (!/^\d+$/.test(flags.drain)) throw new UsageError(`init --drain ${flags.drain}: expected milliseconds`);
      const listenFds = Number(process.env.LISTEN_FDS) || 0;
      const argv = ['nsvisor-init', ...(flags.g ? ['-g'] : []), ...flags.e.flatMap((c) => ['-e', c]), '--drain', flags.drain];
      if (listenFds > 0) argv.push('--listen-fds', String(listenFds));
      const env = Object.entries(process.env).map(([k, v]) => `${k}=${v}`);
      // Descriptors handed to us by socket activation (LISTEN_FDS) pass through to CMD.
      addon.execve(initPath, [...argv, '--', ...command], env, listenFds);
    });
}
