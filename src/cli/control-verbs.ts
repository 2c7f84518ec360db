// `nsvisor start|stop|restart NAME`: ask the running supervisor to act on one service and wait until it has.
import { Command } from 'commander';

import { call } from '../control/client';
import type { ServiceStatus } from '../supervisor';
import { resolveSocket, SocketFlags, withSocketOptions } from './socket-option';

const VERBS = {
  start: 'start a service and wait until it is running and ready',
  stop: 'stop a service gracefully (stop.signal, then SIGKILL after stop.timeout) and keep it stopped',
  restart: 'stop then start a service',
} as const;

export function register(program: Command): void {
  for (const [verb, description] of Object.entries(VERBS)) {
    withSocketOptions(program.command(verb).description(description).argument('<name>', 'the service')).action(
      async (name: string, flags: SocketFlags) => {
        const socket = await resolveSocket(flags);
        const s: ServiceStatus = await call(socket, 'POST', `/v1/${verb}/${encodeURIComponent(name)}`);
        process.stdout.write(`${s.name}: ${s.state}${s.pid ? ` (pid ${s.pid})` : ''}\n`);
      },
    );
  }
}
