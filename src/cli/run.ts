// `nsvisor run [-c FILE]`: supervise the services of FILE (or the built-in demo) until SIGTERM/SIGINT, then stop them all.
import { Command } from 'commander';

import { ConfigError } from '../config/issues';
import { loadConfigSource, resolveConfigSource, sourceName } from '../config/load';
import { startDaemon } from '../daemon';
import { CliError } from './errors';

function note(text: string): void {
  process.stderr.write(`nsvisor: ${text}\n`);
}

export function register(program: Command): void {
  program
    .command('run')
    .description('supervise the services of a configuration in the foreground until SIGTERM/SIGINT, then stop them gracefully')
    .option('-c, --config <file>', 'configuration file (default: ./nsvisor.yaml, else the built-in demo)')
    .addHelpText(
      'after',
      `
Works as PID 1 of a container: it reaps every orphan and turns SIGTERM into a graceful shutdown.
A second SIGINT stops waiting: every service is killed at once.
SIGHUP restarts every running service that holds listen sockets without downtime, dependencies first
(as "nsvisor restart NAME" does for one; "nsvisor restart --all" restarts every running service).
Exit status: 0 after a clean shutdown, 1 on a fatal error, 2 for a configuration error.`,
    )
    .action(async (flags: { config?: string }) => {
      const source = resolveConfigSource(flags.config);
      let config;
      try {
        config = await loadConfigSource(source);
      } catch (e) {
        if (e instanceof ConfigError) throw new CliError(`${sourceName(source)}:\n  ${e.problems.join('\n  ')}`, 2);
        throw e;
      }
      if (source.kind === 'demo') note('no configuration file (./nsvisor.yaml or -c FILE): running the built-in demo');
      const daemon = await startDaemon(config);
      const m = daemon.metrics?.address;
      const where = m ? `; metrics on http://${m.family === 'IPv6' ? `[${m.address}]` : m.address}:${m.port}/metrics` : '';
      note(`supervising ${daemon.supervisor.services.size} services; control socket ${config.supervisor.control}${where}`);
      await new Promise<void>((resolve) => {
        let stopping = false;
        const onSignal = (sig: NodeJS.Signals) => {
          if (stopping) {
            if (sig !== 'SIGINT') return;
            note('second SIGINT: killing every service now');
            for (const s of daemon.supervisor.services.values()) s.kill('SIGKILL');
            return;
          }
          stopping = true;
          note(`${sig}: stopping all services`);
          daemon.shutdown().then(resolve, (e: Error) => {
            note(`shutdown: ${e.message}`);
            resolve();
          });
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
        process.on('SIGHUP', () => {
          if (stopping) return;
          note('SIGHUP: restarting the services with listen sockets without downtime');
          void daemon.supervisor.restartAll(true).then((results) => {
            for (const r of results) note(r.error ? `${r.name}: restart failed: ${r.error}` : `${r.name}: restarted without downtime`);
          });
        });
      });
      note('all services stopped');
    });
}
