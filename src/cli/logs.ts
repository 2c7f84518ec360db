// `nsvisor logs NAME [-f] [-n N]`: print (and follow) a service's output from the running supervisor.
import { Command } from 'commander';

import { request } from '../control/client';
import { CliError, UsageError } from './errors';
import { resolveSocket, SocketFlags, withSocketOptions } from './socket-option';

export function register(program: Command): void {
  withSocketOptions(
    program
      .command('logs')
      .description("print a service's output, each line with its timestamp (stderr lines marked)")
      .argument('<name>', 'the service')
      .option('-f, --follow', 'keep printing new lines until interrupted')
      .option('-n, --lines <n>', 'how many of the last lines to print first', '100'),
  ).action(async (name: string, flags: SocketFlags & { follow?: boolean; lines: string }) => {
    if (!/^\d+$/.test(flags.lines)) throw new UsageError(`logs -n ${flags.lines}: expected a number of lines`);
    const path = `/v1/logs/${encodeURIComponent(name)}?n=${flags.lines}${flags.follow ? '&follow=1' : ''}`;
    const reply = await request(await resolveSocket(flags), 'GET', path, (chunk) => process.stdout.write(chunk));
    if (reply.status !== 200) throw new CliError(reply.body?.error ?? `the supervisor answered ${reply.status}`, 1);
  });
}
