// `nsvisor run` assembled: the supervisor, its services' logs, the control socket, /metrics and, as PID 1, the orphan reaper.
import type * as http from 'http';

import { closeCgroupPool } from './cgroup';
import type { Config } from './config/schema';
import { startControlServer } from './control/server';
import { EventLog } from './events/event-log';
import { ServiceLog } from './logs';
import { MetricsServer, startMetricsServer, SupervisorMetrics } from './metrics';
import { closeNetlinkPool } from './net/pool';
import { startOrphanReaper } from './process/orphan-reaper';
import { Supervisor } from './supervisor';

export interface Daemon {
  supervisor: Supervisor;
  /** The /metrics endpoint; null when supervisor.metrics is "off". */
  metrics: MetricsServer | null;
  /** Stops every service (bounded by shutdownTimeout), closes the control socket and the logs. */
  shutdown(): Promise<void>;
}

export interface DaemonOptions {
  /** Where services' lines go when logDir is "-"; the supervisor's stdout by default. */
  out?: NodeJS.WritableStream;
  /** The supervisor's own lines (events); text on stderr by default. */
  events?: EventLog;
}

/** Keeps a service's log trouble in its status and in the supervisor's output, once per run of failures. */
function logOptions(supervisor: Supervisor, name: string, events: EventLog) {
  const service = supervisor.service(name);
  let note: string | null = null;
  return {
    onError: (err: Error) => {
      note = `log: ${err.message} (its lines are lost until writes work again)`;
      service.warning = note;
      events.write({ service: name, event: 'log_failed', message: note, fields: { error: err.message } });
    },
    onRecovered: (lost: number) => {
      if (service.warning === note) service.warning = null;
      events.write({ service: name, event: 'log_recovered', message: `log: writes work again; ${lost} lines were lost`, fields: { lostLines: lost } });
    },
  };
}

export async function startDaemon(config: Config, opts: DaemonOptions = {}): Promise<Daemon> {
  const out = opts.out ?? process.stdout;
  const events = opts.events ?? new EventLog(process.stderr);
  const control = config.supervisor.control;
  const supervisor = new Supervisor(config);
  events.follow(supervisor);
  // A bridge or NAT that cannot be made is fatal, before anything listens; what was made of them goes again.
  await supervisor.setupNetworks().catch(async (e) => {
    await supervisor.teardownNetworks().catch(() => undefined);
    throw e;
  });
  const logs = new Map<string, ServiceLog>();
  for (const name of supervisor.services.keys()) {
    logs.set(name, new ServiceLog(name, { logDir: config.supervisor.logDir, out, ...logOptions(supervisor, name, events) }));
  }
  supervisor.on('output', (name, stream, source) => logs.get(name)!.attach(stream, source));
  const server: http.Server = await startControlServer(supervisor, control, {
    tail: (name, n) => logs.get(name)!.tail(n),
    follow: (name, onLine) => logs.get(name)!.follow(onLine),
  });
  let metrics: MetricsServer | null = null;
  let registry: SupervisorMetrics | null = null;
  if (config.supervisor.metrics) {
    registry = new SupervisorMetrics(supervisor);
    try {
      metrics = await startMetricsServer(registry, config.supervisor.metrics.host, config.supervisor.metrics.port);
    } catch (e) {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      throw new Error(`metrics: cannot listen on ${config.supervisor.metrics.host}:${config.supervisor.metrics.port}: ${(e as Error).message}`);
    }
  }
  const stopReaper = process.pid === 1 ? startOrphanReaper() : () => undefined;
  void supervisor.start();
  return {
    supervisor,
    metrics,
    async shutdown() {
      // The rest of the shutdown happens even when the networks' teardown fails; the failure is reported after it.
      const failure = await supervisor.stop().then(() => null, (e: Error) => e);
      await metrics?.close();
      registry?.close();
      stopReaper();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await Promise.all([...logs.values()].map((l) => l.close()));
      await closeCgroupPool();
      await closeNetlinkPool();
      if (failure) throw failure;
    },
  };
}
