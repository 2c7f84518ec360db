// `nsvisor init ...` reached through Node (`node bin/nsvisor init`): hands its arguments, untouched, to nsvisor-init.
import { Command } from 'commander';

import { addon, initPath } from '../native';

/**
 * Run as bin/nsvisor, `nsvisor init` never gets here: the script executes nsvisor-init before any Node starts, so
 * CMD inherits the caller's signal mask and dispositions as under tini. Through node, Node has already reset those
 * (it ignores SIGPIPE and SIGXFSZ itself); this path gives CMD the defaults instead of Node's ignores.
 */
export function register(program: Command): void {
  program
    .command('init')
    .description("tini-compatible init (nsvisor-init): forward signals to CMD, reap orphans, exit with CMD's status; nsvisor init -h lists its options")
    .usage('[OPTIONS] [--] CMD [ARG...]')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[args...]')
    .action(() => {
      // The words after `init` as given (commander keeps them in rawArgs, which its typings leave out): its
      // parsing would reorder them and drop a leading `--`.
      const raw = (program as unknown as { rawArgs: string[] }).rawArgs;
      const args = raw.slice(raw.indexOf('init', 2) + 1);
      // A handler, unlike SIG_IGN, does not survive execve: watching them gives these two back their defaults.
      for (const sig of ['SIGPIPE', 'SIGXFSZ'] as const) process.on(sig, () => undefined);
      const env = Object.entries(process.env).map(([k, v]) => `${k}=${v}`);
      // Descriptors of socket activation meant for us (sd_listen_fds' rule: LISTEN_PID is our pid) pass to CMD.
      const listenFds = process.env.LISTEN_PID === String(process.pid) ? Number(process.env.LISTEN_FDS) || 0 : 0;
      addon.execve(initPath, ['nsvisor-init', ...args], env, listenFds);
    });
}
