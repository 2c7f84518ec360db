// `nsvisor run [-c FILE]`: supervise the services of FILE (or the built-in demo) until SIGTERM/SIGINT, then stop them all.
import { Command, Option } from 'commander';
import * as path from 'path';

import { ConfigError } from '../config/issues';
import { loadConfigSource, resolveConfigSource, sourceName } from '../config/load';
import { startDaemon } from '../daemon';
import { EventLog, LOG_FORMATS, LogFormat } from '../events/event-log';
import { CliError } from './errors';
import { ManagerNotify } from './manager-notify';

/**
 * A defect of nsvisor that escaped every handler must not end the supervisor (as PID 1 of a container, that is the
 * whole container): it is said loudly instead, and the services go on.
 */
function keepRunningOnDefects(events: EventLog): void {
  const report = (kind: string) => (e: unknown) =>
    events.note('internal_error', `internal error (${kind}), please report it: ${(e as Error)?.stack ?? String(e)}`);
  process.on('uncaughtException', report('uncaught exception'));
  process.on('unhandledRejection', report('unhandled rejection'));
}

export function register(program: Command): void {
  program
    .command('run')
    .description('supervise the services of a configuration in the foreground until SIGTERM/SIGINT, then stop them gracefully')
    .option('-c, --config <file>', 'configuration file (default: ./nsvisor.yaml, else the built-in demo)')
    .addOption(new Option('--log-format <format>', "the supervisor's own lines on stderr: text, or json (one object per line: time, service, event, message, fields)").choices(LOG_FORMATS).default('text'))
    .addHelpText(
      'after',
      `
The supervisor prints a line for each event a person must know about: a start that failed and why,
a service not ready in time, an OOM kill, an unexpected exit, the delay before the next try, a
service marked failed, a log that cannot be written. Services' own output goes to supervisor.logDir.

Works as PID 1 of a container: it reaps every orphan and turns SIGTERM into a graceful shutdown.
Under a service manager that set NOTIFY_SOCKET (systemd's Type=notify, contrib/nsvisor.service) it
sends READY=1 once every service has had its first start (ready, or failed), STOPPING=1 at shutdown.
A second SIGINT stops waiting: every service is killed at once.
SIGHUP reloads the configuration file, as "nsvisor reload" does: only what changed is touched
("nsvisor restart --all" restarts every running service, dependencies first).
Exit status: 0 after a clean shutdown, 1 on a fatal error, 2 for a configuration error.`,
    )
    .action(async (flags: { config?: string; logFormat: LogFormat }) => {
      const events = new EventLog(process.stderr, flags.logFormat);
      const source = resolveConfigSource(flags.config);
      let config;
      try {
        config = await loadConfigSource(source);
      } catch (e) {
        if (e instanceof ConfigError) throw new CliError(`${sourceName(source)}:\n  ${e.problems.join('\n  ')}`, 2);
        throw e;
      }
      keepRunningOnDefects(events);
      const manager = ManagerNotify.fromEnv(events);
      if (source.kind === 'demo') events.note('demo', 'no configuration file (./nsvisor.yaml or -c FILE): running the built-in demo');
      const daemon = await startDaemon(config, { events, file: source.kind === 'file' ? path.resolve(source.path) : null });
      const m = daemon.metrics?.address;
      const where = m ? `; metrics on http://${m.family === 'IPv6' ? `[${m.address}]` : m.address}:${m.port}/metrics` : '';
      // The configuration's count: a service gone from it whose instances are being adopted and stopped is not supervised.
      events.note('started', `supervising ${Object.keys(config.services).length} services; control socket ${config.supervisor.control}${where}`);
      let stopping = false;
      // A manager waiting for READY=1 (systemd's Type=notify) hears it once every service has had its first start.
      void daemon.started.then(() => {
        if (!stopping) manager?.send({ READY: '1', STATUS: `supervising ${daemon.supervisor.services.size} services` });
      });
      await new Promise<void>((resolve) => {
        const onSignal = (sig: NodeJS.Signals) => {
          if (stopping) {
            if (sig !== 'SIGINT') return;
            events.note('kill', 'second SIGINT: killing every service now');
            for (const s of daemon.supervisor.services.values()) s.kill('SIGKILL');
            return;
          }
          stopping = true;
          manager?.send({ STOPPING: '1', STATUS: `${sig}: stopping all services` });
          events.note('shutdown', `${sig}: stopping all services`, { signal: sig });
          daemon.shutdown().then(resolve, (e: Error) => {
            events.note('shutdown_failed', `shutdown: ${e.message}`);
            resolve();
          });
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
        process.on('SIGHUP', () => {
          if (stopping) return;
          events.note('sighup', 'SIGHUP: reloading the configuration');
          // The reload says each step (or why the file is invalid) on its own; a reload already under way wins.
          daemon.reloader.reload().catch((e: Error) => events.note('reload_failed', `SIGHUP: ${e.message}`));
        });
      });
      events.note('stopped', 'all services stopped');
    });
}
