// `nsvisor run` assembled: the supervisor, its services' logs, the control socket, /metrics, reloads and, as PID 1, the orphan reaper.
import type * as http from 'http';

import { closeCgroupPool } from './cgroup';
import type { HostPort } from './config/addresses';
import { hostProblems, problemLine } from './config/host-checks';
import { closeConfigPool } from './config/load-off-loop';
import type { Config } from './config/schema';
import { startControlServer } from './control/server';
import { checkUpgrade, reexec } from './control/upgrade';
import type { Service } from './service/service';
import { EventLog } from './events/event-log';
import { ServiceLog } from './logs';
import { MetricsServer, startMetricsServer, SupervisorMetrics } from './metrics';
import { closeNetlinkPool } from './net/pool';
import { realHostFacts } from './process/host-context';
import { startOrphanReaper } from './process/orphan-reaper';
import { Reloader } from './reload/reloader';
import { Supervisor } from './supervisor';

export interface Daemon {
  supervisor: Supervisor;
  /** The /metrics endpoint now; null when supervisor.metrics is "off". */
  readonly metrics: MetricsServer | null;
  reloader: Reloader;
  /** Settles once every service has had its first outcome: running (ready), or failed. */
  started: Promise<void>;
  /** Stops every service (bounded by shutdownTimeout), closes the control socket and the logs. */
  shutdown(): Promise<void>;
}

export interface DaemonOptions {
  /** The file the configuration came from, which a reload reads again; null for the built-in demo. */
  file?: string | null;
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

/** What a running service keeps from being adopted by the upgraded program, as "NAME (why)", if anything. */
function notAdoptable(s: Service): string[] {
  const why = s.slots.map((slot) => slot.current?.adoptionBlocker?.()).find((w) => w);
  return why ? [`${s.name} (${why})`] : [];
}

/** The permanent host problems of the services a reload changes or adds (only those are checked: a reload of one of a thousand stays cheap). */
export function reloadHostProblems(next: Config, touched: Set<string>): string[] {
  const services = Object.fromEntries(Object.entries(next.services).filter(([name]) => touched.has(name)));
  return hostProblems({ ...next, services }, realHostFacts({ isSupervisor: true }))
    .filter((p) => p.permanent)
    .map(problemLine);
}

/** The metrics endpoint, which a reload may move: the new address is bound before the old one is let go. */
class MetricsEndpoint {
  server: MetricsServer | null = null;

  constructor(private readonly registry: SupervisorMetrics) {}

  async bind(at: HostPort | null): Promise<void> {
    let next: MetricsServer | null = null;
    if (at) {
      try {
        next = await startMetricsServer(this.registry, at.host, at.port);
      } catch (e) {
        throw new Error(`metrics: cannot listen on ${at.host}:${at.port}: ${(e as Error).message}`);
      }
    }
    const old = this.server;
    this.server = next;
    await old?.close();
  }
}

export async function startDaemon(config: Config, opts: DaemonOptions = {}): Promise<Daemon> {
  const out = opts.out ?? process.stdout;
  const events = opts.events ?? new EventLog(process.stderr);
  const supervisor = new Supervisor(config);
  events.follow(supervisor);
  // A bridge or NAT that cannot be made is fatal, before anything listens; what was made of them goes again.
  await supervisor.setupNetworks().catch(async (e) => {
    await supervisor.teardownNetworks().catch(() => undefined);
    throw e;
  });
  const logs = new Map<string, ServiceLog>();
  const openLog = (name: string) => logs.set(name, new ServiceLog(name, { logDir: config.supervisor.logDir, out, ...logOptions(supervisor, name, events) }));
  for (const name of supervisor.services.keys()) openLog(name);
  supervisor.on('added', openLog);
  supervisor.on('removed', (name) => {
    void logs.get(name)?.close();
    logs.delete(name);
  });
  supervisor.on('output', (name, stream, source) => logs.get(name)!.attach(stream, source));
  const registry = new SupervisorMetrics(supervisor);
  const endpoint = new MetricsEndpoint(registry);
  const reloader = new Reloader(supervisor, opts.file ?? null, events, {
    rebindMetrics: (at) => endpoint.bind(at),
    hostProblems: (next, touched) => reloadHostProblems(next, touched),
    count: (result) => registry.countReload(result),
  });
  const server: http.Server = await startControlServer(supervisor, config.supervisor.control, {
    logs: { tail: (name, n) => logs.get(name)!.tail(n), follow: (name, onLine) => logs.get(name)!.follow(onLine) },
    reload: (file, dryRun) => reloader.reload(file ?? undefined, dryRun),
    upgrade: async () => {
      const running = [...supervisor.services.values()].filter((s) => s.state !== 'stopped' && s.state !== 'failed');
      const version = await checkUpgrade(supervisor.settings.supervisor.adoptTimeout, process.argv, running.flatMap(notAdoptable), opts.file ?? null);
      return {
        version,
        reexec: () => {
          events.note('upgrading', `upgrade: executing the program again in place (pid ${process.pid}, new version ${version}); the services wait to be adopted`);
          reexec();
        },
      };
    },
  });
  try {
    await endpoint.bind(config.supervisor.metrics);
  } catch (e) {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    throw e;
  }
  const stopReaper = process.pid === 1 ? startOrphanReaper() : () => undefined;
  const started = supervisor.start();
  return {
    supervisor,
    reloader,
    started,
    get metrics() {
      return endpoint.server;
    },
    async shutdown() {
      // The rest of the shutdown happens even when the networks' teardown fails; the failure is reported after it.
      const failure = await supervisor.stop().then(() => null, (e: Error) => e);
      await endpoint.bind(null);
      registry.close();
      stopReaper();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await Promise.all([...logs.values()].map((l) => l.close()));
      await closeCgroupPool();
      await closeNetlinkPool();
      await closeConfigPool();
      if (failure) throw failure;
    },
  };
}
