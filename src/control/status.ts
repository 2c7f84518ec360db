// The status of a service as `status`, `exec` and the control API show it: facts of the Service, plus cpu, memory and network read on the pools.
import { cgroupPool } from '../cgroup';
import type { ExitRecord } from '../launch/exit-reason';
import type { LinkCounters } from '../net/links';
import { countersOnPool } from '../net/pool';
import type { Service } from '../service/service';
import type { ServiceState } from '../service/states';

export interface ServiceStatus {
  name: string;
  state: ServiceState;
  /** Host pid of the service's main process while an instance runs. */
  pid: number | null;
  /** Host pid of its nsvisor-init (PID 1 of its pid namespace): `exec` joins its namespaces. */
  initPid: number | null;
  startedAt: string | null;
  uptimeSeconds: number | null;
  starts: number;
  /** Automatic restarts only. */
  restarts: number;
  /** Orphans reaped by the service's nsvisor-init, over all its instances. */
  reaped: number;
  lastExit: (Omit<ExitRecord, 'at'> & { at: string }) | null;
  failure: string | null;
  warning: string | null;
  statusText: string | null;
  nextStartAt: string | null;
  /** From the service's cgroup while it runs; null otherwise. */
  cpuSeconds: number | null;
  memoryBytes: number | null;
  /** 0 = unlimited. */
  memoryLimitBytes: number | null;
  /** The cgroup.procs files of the running instance: `exec` joins them. */
  cgroupProcs: string[];
  /** Whom the service runs as ("uid:gid", or null for root), the capabilities it keeps (null: all), no_new_privs: `exec` runs so too. */
  user: string | null;
  capabilities: string[] | null;
  noNewPrivileges: boolean;
  /** Byte counters of each interface but lo in the service's own network namespace, while it runs; null otherwise. */
  network: LinkCounters[] | null;
}

export function describeService(s: Service): ServiceStatus {
  const running = s.state === 'running' || s.state === 'starting' || s.state === 'stopping';
  return {
    name: s.name,
    state: s.state,
    pid: s.pid,
    initPid: s.initPid,
    startedAt: running && s.startedAt ? s.startedAt.toISOString() : null,
    uptimeSeconds: running && s.startedAt ? Math.round((Date.now() - s.startedAt.getTime()) / 1000) : null,
    starts: s.starts,
    restarts: s.restarts,
    reaped: s.reaped,
    lastExit: s.lastExit ? { ...s.lastExit, at: s.lastExit.at.toISOString() } : null,
    failure: s.failure,
    warning: s.warning,
    statusText: s.statusText,
    nextStartAt: s.nextStartAt?.toISOString() ?? null,
    cpuSeconds: null,
    memoryBytes: null,
    memoryLimitBytes: null,
    network: null,
    cgroupProcs: s.cgroup ? [...(s.cgroup.placement.cloneInto ? [`${s.cgroup.placement.cloneInto}/cgroup.procs`] : []), ...s.cgroup.placement.procsFiles] : [],
    user: s.settings.user ?? null,
    capabilities: s.settings.capabilities ?? null,
    noNewPrivileges: s.settings.noNewPrivileges,
  };
}

/** describeService() plus the cpu and memory figures of each running service, read on the stats pool. */
export async function describeWithStats(services: Service[]): Promise<ServiceStatus[]> {
  const out = services.map(describeService);
  await Promise.all(
    services.map(async (s, i) => {
      if (s.initPid !== null && (s.settings.isolate ?? []).includes('net')) out[i].network = await countersOnPool(s.initPid);
    }),
  );
  const measured = services.map((s, i) => ({ i, cgroup: s.cgroup })).filter((m) => m.cgroup !== null);
  if (measured.length === 0) return out;
  const stats = await cgroupPool().collect(measured.map((m) => m.cgroup!.statsTarget));
  measured.forEach((m, k) => {
    out[m.i].cpuSeconds = stats[k].cpuUsageSeconds;
    out[m.i].memoryBytes = stats[k].memoryUsageBytes;
    out[m.i].memoryLimitBytes = stats[k].memoryLimitBytes;
  });
  return out;
}
