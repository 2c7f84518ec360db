// `nsvisor start|stop|restart NAME` and `restart --all`: ask the running supervisor to act and wait until it has.
import { Command } from 'commander';

import { call } from '../control/client';
import type { RestartMode } from '../service/service';
import type { ServiceStatus } from '../control/status';
import type { RestartResult } from '../supervisor';
import { CliError, UsageError } from './errors';
import { resolveSocket, SocketFlags, withSocketOptions } from './socket-option';

const VERBS = {
  start: 'start a service and wait until it is running and ready',
  stop: 'stop a service gracefully (stop.signal, then SIGKILL after stop.timeout) and keep it stopped',
} as const;

const MODE_TEXT: Record<RestartMode, string> = { 'zero-downtime': 'restarted without downtime', 'stop-start': 'stopped and started' };

const line = (s: ServiceStatus) => `${s.name}: ${s.state}${s.pid ? ` (pid ${s.pid})` : ''}`;

export function register(program: Command): void {
  for (const [verb, description] of Object.entries(VERBS)) {
    withSocketOptions(program.command(verb).description(description).argument('<name>', 'the service')).action(
      async (name: string, flags: SocketFlags) => {
        const socket = await resolveSocket(flags);
        const s: ServiceStatus = await call(socket, 'POST', `/v1/${verb}/${encodeURIComponent(name)}`);
        process.stdout.write(`${line(s)}\n`);
      },
    );
  }
  const restart = program
    .command('restart')
    .description(
      'restart a service: one with listen sockets that is running gets a new instance on the same sockets, and the old one stops ' +
        'only once the new one is ready (zero-downtime; if the new one fails, the old one keeps serving and the command fails); ' +
        'any other is stopped, then started. --all restarts every running service, dependencies first, one at a time ' +
        '(SIGHUP to the supervisor reloads its configuration instead: see reload)',
    )
    .argument('[name]', 'the service')
    .option('--all', 'every service that is running or trying to start, in dependency order');
  withSocketOptions(restart).action(async (name: string | undefined, flags: SocketFlags & { all?: boolean }) => {
    if (!name === !flags.all) throw new CliError('restart: give a service NAME or --all', 2);
    const socket = await resolveSocket(flags);
    if (name) {
      const s: ServiceStatus & { restart: RestartMode } = await call(socket, 'POST', `/v1/restart/${encodeURIComponent(name)}`);
      process.stdout.write(`${line(s)}, ${MODE_TEXT[s.restart]}\n`);
      return;
    }
    const results: RestartResult[] = await call(socket, 'POST', '/v1/restart-all');
    for (const r of results) process.stdout.write(r.error ? `${r.name}: restart failed: ${r.error}\n` : `${r.name}: ${MODE_TEXT[r.mode!]}\n`);
    const failed = results.filter((r) => r.error).length;
    if (failed) throw new CliError(`${failed} of ${results.length} restarts failed`, 1);
  });
  withSocketOptions(
    program
      .command('upgrade')
      .description(
        'make the running supervisor execute its program from disk again in place (same pid): its services run on and the new ' +
          'program adopts them (needs supervisor.adoptTimeout > 0; refused, with nothing changed, when the program on disk does not start)',
      ),
  ).action(async (flags: SocketFlags) => {
    const socket = await resolveSocket(flags);
    const r: { pid: number; version: string; from?: string } = await call(socket, 'POST', '/v1/upgrade');
    process.stdout.write(`upgrading: pid ${r.pid} executes nsvisor ${r.version}${r.from ? ` (it ran ${r.from})` : ''}\n`);
  });
  withSocketOptions(
    program
      .command('scale')
      .description('set the number of instances of a running service: new ones start, the highest ones stop, the others are not touched')
      .argument('<name>', 'the service')
      .argument('<instances>', 'how many instances, 1 to 1000'),
  ).action(async (name: string, instances: string, flags: SocketFlags) => {
    if (!/^\d+$/.test(instances) || Number(instances) < 1 || Number(instances) > 1000) throw new UsageError(`scale ${name} ${instances}: expected a number of instances from 1 to 1000`);
    const socket = await resolveSocket(flags);
    const s: ServiceStatus = await call(socket, 'POST', `/v1/scale/${encodeURIComponent(name)}?instances=${instances}`);
    process.stdout.write(`${name}: ${s.runningInstances} of ${s.desiredInstances} instances running\n`);
  });
}
