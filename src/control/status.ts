// The status of a service as `status`, `exec` and the control API show it: facts of the Service, plus cpu, memory and network read on the pools.
import { cgroupPool } from '../cgroup';
import { EXIT_REASONS, ExitCounts, ExitRecord, noExits } from '../launch/exit-reason';
import type { LinkCounters } from '../net/links';
import { countersOnPool } from '../net/pool';
import type { ServiceConfig } from '../config/schema';
import { protectionsOf } from '../security/protections';
import type { Service } from '../service/service';
import type { Slot } from '../service/slot';
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
  /** When this supervisor took the serving instance over from one that died (absent for one it started). */
  adoptedAt?: string;
  starts: number;
  /** Automatic restarts only. */
  restarts: number;
  /** Orphans reaped by the service's nsvisor-init, over all its instances. */
  reaped: number;
  lastExit: (Omit<ExitRecord, 'at'> & { at: string }) | null;
  /** Instances ended (and starts that failed), by reason, as nsvisor_service_exits_total. */
  exits: ExitCounts;
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
  /**
   * Whom the service runs as ("uid:gid", or null for root), the capabilities it keeps (null: all; ambient too),
   * no_new_privs and its seccomp profile ("default", a file, or null): `exec` runs so too.
   */
  user: string | null;
  capabilities: string[] | null;
  ambient: boolean;
  noNewPrivileges: boolean;
  seccomp: string | null;
  /** Byte counters of each interface but lo in the service's own network namespace, while it runs; null otherwise. */
  network: LinkCounters[] | null;
  /** Instances asked for, and running now. */
  desiredInstances: number;
  runningInstances: number;
  /** Each instance (NAME.0, NAME.1, ...) when there are more than one: the same facts, cpu and memory of its own; the service's sum them. */
  instances: ServiceStatus[] | null;
}

/** Who the service's processes are and what they may do, as `exec` needs it. */
function identityFields(settings: ServiceConfig) {
  const p = protectionsOf(settings);
  const seccomp = p.seccomp === null ? null : p.seccomp.kind === 'default' ? 'default' : p.seccomp.path;
  return { user: settings.user ?? null, capabilities: p.capabilities, ambient: p.ambient, noNewPrivileges: p.noNewPrivileges, seccomp };
}

/** The status of one slot (an instance position), named `name`. */
function describeSlot(s: Slot, settings: ServiceConfig, name: string): ServiceStatus {
  const running = s.state === 'running' || s.state === 'starting' || s.state === 'stopping';
  return {
    name,
    state: s.state,
    pid: s.pid,
    initPid: s.initPid,
    startedAt: running && s.startedAt ? s.startedAt.toISOString() : null,
    uptimeSeconds: running && s.startedAt ? Math.round((Date.now() - s.startedAt.getTime()) / 1000) : null,
    starts: s.starts,
    restarts: s.restarts,
    reaped: s.reaped,
    lastExit: s.lastExit ? { ...s.lastExit, at: s.lastExit.at.toISOString() } : null,
    exits: { ...s.exits },
    failure: s.failure,
    warning: s.warning,
    statusText: s.statusText,
    nextStartAt: s.nextStartAt?.toISOString() ?? null,
    cpuSeconds: null,
    memoryBytes: null,
    memoryLimitBytes: null,
    network: null,
    cgroupProcs: s.cgroup ? [...(s.cgroup.placement.cloneInto ? [`${s.cgroup.placement.cloneInto}/cgroup.procs`] : []), ...s.cgroup.placement.procsFiles] : [],
    ...identityFields(settings),
    desiredInstances: 1,
    runningInstances: s.state === 'running' ? 1 : 0,
    instances: null,
    ...(s.current?.adoption ? { adoptedAt: s.current.adoption.at.toISOString() } : {}),
  };
}

/** A service's status: one instance's facts, or with several, their sum and each one under `instances` (NAME.0, NAME.1, ...). */
export function describeService(s: Service): ServiceStatus {
  const slots = s.slots.map((slot) => describeSlot(slot, s.settings, s.slots.length > 1 ? `${s.name}.${slot.index}` : s.name));
  if (slots.length === 1) return { ...slots[0], desiredInstances: s.settings.instances, runningInstances: s.running };
  const first = slots.find((x) => x.pid !== null) ?? slots[0];
  const lastExit = slots.map((x) => x.lastExit).reduce((a, b) => (b && (!a || b.at >= a.at) ? b : a), null);
  return {
    ...first,
    name: s.name,
    state: s.state,
    starts: s.starts,
    restarts: s.restarts,
    reaped: s.reaped,
    lastExit,
    exits: sumExits(slots.map((x) => x.exits)),
    failure: s.failure,
    warning: s.warning,
    nextStartAt: s.nextStartAt?.toISOString() ?? null,
    desiredInstances: s.settings.instances,
    runningInstances: s.running,
    instances: slots,
  };
}

function sumExits(parts: ExitCounts[]): ExitCounts {
  const total = noExits();
  for (const p of parts) for (const r of EXIT_REASONS) total[r] += p[r];
  return total;
}

/** Sums what each instance's cgroup says into its service's figures (null when none was read). */
function sumInto(total: ServiceStatus, parts: ServiceStatus[]): void {
  const sum = (k: 'cpuSeconds' | 'memoryBytes' | 'memoryLimitBytes') => {
    const v = parts.map((p) => p[k]).filter((x): x is number => x !== null);
    return v.length ? (k === 'memoryLimitBytes' && v.includes(0) ? 0 : v.reduce((a, b) => a + b, 0)) : null;
  };
  total.cpuSeconds = sum('cpuSeconds');
  total.memoryBytes = sum('memoryBytes');
  total.memoryLimitBytes = sum('memoryLimitBytes');
}

/** describeService() plus the cpu, memory and network figures of each running instance, read on the pools. */
export async function describeWithStats(services: Service[]): Promise<ServiceStatus[]> {
  const out = services.map(describeService);
  // Every instance position with its row (the service's own when it has one instance).
  const rows = services.flatMap((s, i) => s.slots.map((slot, k) => ({ slot, row: out[i].instances?.[k] ?? out[i], netIsolated: (s.settings.isolate ?? []).includes('net') })));
  await Promise.all(rows.map(async (r) => {
    if (r.slot.initPid !== null && r.netIsolated) r.row.network = await countersOnPool(r.slot.initPid);
  }));
  const measured = rows.filter((r) => r.slot.cgroup !== null);
  if (measured.length) {
    const stats = await cgroupPool().collect(measured.map((m) => ({ ...m.slot.cgroup!.statsTarget, brief: true })));
    measured.forEach((m, k) => {
      m.row.cpuSeconds = stats[k].cpuUsageSeconds;
      m.row.memoryBytes = stats[k].memoryUsageBytes;
      m.row.memoryLimitBytes = stats[k].memoryLimitBytes;
    });
  }
  for (const o of out) if (o.instances) sumInto(o, o.instances);
  return out;
}
