// Every nsvisor_ metric of SPEC 5 declared on a given registry: names, types, help texts, labels and buckets.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

import { STATES } from '../service/states';

export { EXIT_REASONS } from '../launch/exit-reason';
export const RELOAD_RESULTS = ['applied', 'invalid', 'failed'] as const;
export { STATES };

type Name = 'name';
const byName = ['name'] as const;

/** Shutdowns may take up to stop.timeout + drain and the shutdownTimeout (60 s by default): buckets go past it. */
const SHUTDOWN_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
const SPAWN_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const READY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const COLLECT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export function defineMetrics(registers: Registry[]) {
  const gauge = <L extends string = Name>(name: string, help: string, labelNames: readonly L[] = byName as unknown as L[]) =>
    new Gauge<L>({ name: `nsvisor_${name}`, help, labelNames, registers });
  const counter = <L extends string = Name>(name: string, help: string, labelNames: readonly L[] = byName as unknown as L[]) =>
    new Counter<L>({ name: `nsvisor_${name}`, help, labelNames, registers });
  const histogram = (name: string, help: string, buckets: number[]) =>
    new Histogram<Name>({ name: `nsvisor_${name}`, help, labelNames: byName, buckets, registers });

  const lifecycle = {
    info: gauge('service_info', 'Always 1: the service, its restart policy and its namespaces (kernel names, sorted).', ['name', 'restart_policy', 'isolation'] as const),
    state: gauge('service_state', '1 for the state the service is in, 0 for the others.', ['name', 'state'] as const),
    startTime: gauge('service_start_time_seconds', 'Unix time at which the current (or last) instance was spawned.'),
    starts: counter('service_starts_total', 'Instances started.'),
    restarts: counter('service_restarts_total', 'Instances started again by the restart policy after an exit (automatic restarts only).'),
    exits: counter('service_exits_total', 'Instances ended, by reason.', ['name', 'reason'] as const),
    lastExitCode: gauge('service_last_exit_code', 'Exit status of the last instance (128+N when killed by signal N).'),
    lastExitTime: gauge('service_last_exit_time_seconds', 'Unix time at which the last instance ended.'),
    spawnDuration: histogram('service_spawn_duration_seconds', 'From the start of an attempt until the service command runs.', SPAWN_BUCKETS),
    readyDuration: histogram('service_ready_duration_seconds', 'From the start of an attempt until the service is ready.', READY_BUCKETS),
    shutdownDuration: histogram('service_shutdown_duration_seconds', 'From the stop signal until nothing of the instance runs.', SHUTDOWN_BUCKETS),
    shutdownKills: counter('service_shutdown_kills_total', 'Stops that ran out of time and ended in SIGKILL.'),
    reaped: counter('service_reaped_total', 'Orphan processes reaped by the service\'s nsvisor-init.'),
    instances: gauge('service_instances', 'Instances of the service running and ready now.'),
    desiredInstances: gauge('service_desired_instances', 'Instances of the service asked for (instances, or nsvisor scale).'),
    healthChecks: counter('service_health_checks_total', 'Health checks of the serving instance, by outcome (a watchdog ping counts as ok).', ['name', 'result'] as const),
  };

  const resources = {
    cpuUsage: counter('service_cpu_usage_seconds_total', 'CPU time consumed by the service\'s cgroup.'),
    cpuUser: counter('service_cpu_user_seconds_total', 'CPU time consumed in user mode.'),
    cpuSystem: counter('service_cpu_system_seconds_total', 'CPU time consumed in kernel mode.'),
    cpuThrottled: counter('service_cpu_throttled_seconds_total', 'Time the service was throttled by its CPU quota.'),
    cpuQuota: gauge('service_spec_cpu_quota_seconds', 'CPU time allowed per period (absent when unlimited).'),
    cpuPeriod: gauge('service_spec_cpu_period_seconds', 'Length of the CPU quota period.'),
    memoryUsage: gauge('service_memory_usage_bytes', 'Memory charged to the service\'s cgroup.'),
    memoryWorkingSet: gauge('service_memory_working_set_bytes', 'Memory usage less inactive file pages.'),
    memoryRss: gauge('service_memory_rss_bytes', 'Anonymous memory of the service.'),
    memoryLimit: gauge('service_spec_memory_limit_bytes', 'Memory limit of the service (0 = unlimited).'),
    oomKills: counter('service_oom_kills_total', 'Processes of the service killed by the OOM killer.'),
    tasks: gauge('service_tasks', 'Tasks (threads) in the service\'s cgroup.'),
    tasksLimit: gauge('service_spec_tasks_limit', 'Task limit of the service (0 = unlimited).'),
    networkReceive: counter('service_network_receive_bytes_total', 'Bytes received on an interface of the service\'s network namespace (lo left out).', ['name', 'interface'] as const),
    networkTransmit: counter('service_network_transmit_bytes_total', 'Bytes sent on an interface of the service\'s network namespace (lo left out).', ['name', 'interface'] as const),
    pressureCpu: counter('service_pressure_cpu_waiting_seconds_total', 'Time some task of the service waited for CPU (PSI).'),
    pressureMemory: counter('service_pressure_memory_waiting_seconds_total', 'Time some task of the service waited for memory (PSI).'),
    pressureIo: counter('service_pressure_io_waiting_seconds_total', 'Time some task of the service waited for I/O (PSI).'),
  };

  const supervisor = {
    reloads: new Counter<'result'>({ name: 'nsvisor_reloads_total', help: 'Reloads of the configuration, by outcome.', labelNames: ['result'], registers }),
    adopted: new Counter({ name: 'nsvisor_adopted_instances_total', help: 'Instances taken over from a supervisor that died.', registers }),
  };

  const collectDuration = new Histogram({
    name: 'nsvisor_collect_duration_seconds',
    help: 'Time taken to collect the resource figures of every service.',
    buckets: COLLECT_BUCKETS,
    registers,
  });

  return { lifecycle, resources, supervisor, collectDuration };
}

export type MetricSet = ReturnType<typeof defineMetrics>;
export type ResourceMetrics = MetricSet['resources'];
export type LifecycleMetrics = MetricSet['lifecycle'];
