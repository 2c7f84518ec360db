// The set of services: start in dependency order (parallel where independent), stop in reverse, bounded by shutdownTimeout.
import { EventEmitter } from 'eventemitter3';
import * as fs from 'fs';

import type { ExitRecord } from './service/exit-reason';
import { Service, ServiceEvents, ServiceRuntime } from './service/service';
import type { ServiceSettings } from './service/settings';
import type { ServiceState } from './service/states';

/** What the supervisor needs of a configuration (the schema's output satisfies it). */
export interface SupervisorSettings {
  supervisor: { shutdownTimeout: number };
  services: Record<string, ServiceSettings>;
}

export interface SupervisorEvents extends ServiceEvents {
  /** A stop that ran out of time: the services still running were killed. */
  shutdownTimeout: (names: string[]) => void;
}

export class UnknownServiceError extends Error {
  constructor(readonly service: string) {
    super(`unknown service "${service}"`);
  }
}

const FORWARDED: (keyof ServiceEvents)[] = ['state', 'exit', 'spawned', 'ready', 'stopped', 'output'];

export class Supervisor extends EventEmitter<SupervisorEvents> {
  readonly services = new Map<string, Service>();
  private readonly devNull: number;

  constructor(readonly settings: SupervisorSettings, runtime: Pick<ServiceRuntime, 'notifyDir'>) {
    super();
    this.devNull = fs.openSync('/dev/null', 'r+');
    for (const [name, s] of Object.entries(settings.services)) {
      const service = new Service(name, s, { ...runtime, devNull: this.devNull });
      for (const event of FORWARDED) service.on(event, (...args: unknown[]) => (this.emit as any)(event, ...args));
      this.services.set(name, service);
    }
  }

  service(name: string): Service {
    const s = this.services.get(name);
    if (!s) throw new UnknownServiceError(name);
    return s;
  }

  /**
   * Starts every service once its dependencies are running; independent ones start together.
   * Resolves when each service is running or cannot start (failed, or a dependency failed).
   */
  async start(): Promise<void> {
    const started = new Map<string, Promise<void>>();
    const startOne = (name: string): Promise<void> => {
      let p = started.get(name);
      if (!p) {
        const s = this.service(name);
        p = Promise.all(s.settings.dependsOn.map(startOne)).then(
          () => s.start(),
          (e: Error) => {
            s.failure = `not started: a dependency did not start (${e.message})`;
            throw e;
          },
        );
        started.set(name, p);
      }
      return p;
    };
    await Promise.allSettled([...this.services.keys()].map(startOne));
  }

  /** Stops every service after the services that depend on it; kills what is left after shutdownTimeout. */
  async stop(): Promise<void> {
    const dependents = new Map<string, string[]>([...this.services.keys()].map((n) => [n, []]));
    for (const [name, s] of this.services) for (const d of s.settings.dependsOn) dependents.get(d)?.push(name);
    const stopped = new Map<string, Promise<void>>();
    const stopOne = (name: string): Promise<void> => {
      let p = stopped.get(name);
      if (!p) {
        p = Promise.all(dependents.get(name)!.map(stopOne)).then(() => this.service(name).stop());
        stopped.set(name, p);
      }
      return p;
    };
    const all = Promise.all([...this.services.keys()].map(stopOne));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((r) => (timer = setTimeout(() => r(true), this.settings.supervisor.shutdownTimeout)));
    const timedOut = await Promise.race([all.then(() => false), late]);
    clearTimeout(timer);
    if (timedOut) {
      const left = [...this.services.values()].filter((s) => s.state !== 'stopped' && s.state !== 'failed');
      this.emit('shutdownTimeout', left.map((s) => s.name));
      for (const s of left) s.kill('SIGKILL');
      await all;
    }
  }

  /** One line of facts per service, for status and the control API. */
  describe(): ServiceStatus[] {
    return [...this.services.values()].map(describeService);
  }
}

export interface ServiceStatus {
  name: string;
  state: ServiceState;
  pid: number | null;
  startedAt: string | null;
  uptimeSeconds: number | null;
  starts: number;
  restarts: number;
  lastExit: (Omit<ExitRecord, 'at'> & { at: string }) | null;
  failure: string | null;
  statusText: string | null;
  nextStartAt: string | null;
}

export function describeService(s: Service): ServiceStatus {
  const running = s.state === 'running' || s.state === 'starting' || s.state === 'stopping';
  return {
    name: s.name,
    state: s.state,
    pid: s.pid,
    startedAt: running && s.startedAt ? s.startedAt.toISOString() : null,
    uptimeSeconds: running && s.startedAt ? Math.round((Date.now() - s.startedAt.getTime()) / 1000) : null,
    starts: s.starts,
    restarts: s.restarts,
    lastExit: s.lastExit ? { ...s.lastExit, at: s.lastExit.at.toISOString() } : null,
    failure: s.failure,
    statusText: s.statusText,
    nextStartAt: s.nextStartAt?.toISOString() ?? null,
  };
}
