// The nsvisor Grafana dashboard, written as typed data (@grafana/schema's Dashboard); generate.ts writes it out as JSON.
import type { Dashboard, VariableModel, VariableRefresh, VariableSort } from '@grafana/schema';

import { DS, layout, sel, selSupervisor, stat, stateTimeline, table, timeseries } from './builders';

const rate = (metric: string, extra = '') => `rate(${metric}{${sel(extra)}}[$__rate_interval])`;
const quantiles = (histogram: string, what: string) =>
  [0.5, 0.99].map((q) => ({
    expr: `histogram_quantile(${q}, sum by (le, name) (rate(${histogram}_bucket{${sel()}}[$__rate_interval])))`,
    legend: `{{name}} p${q * 100} ${what}`,
  }));

function queryVariable(name: string, label: string, query: string): VariableModel {
  return {
    type: 'query',
    name,
    label,
    datasource: DS,
    query: { query, refId: `${name}-values` },
    refresh: 2 as VariableRefresh, // on time range change
    sort: 1 as VariableSort, // alphabetical
    multi: true,
    includeAll: true,
    allValue: '.*',
    current: { text: ['All'], value: ['$__all'] },
  };
}

const variables: VariableModel[] = [
  { type: 'datasource', name: 'datasource', label: 'Data source', query: 'prometheus' },
  queryVariable('job', 'Job', 'label_values(nsvisor_service_info, job)'),
  queryVariable('instance', 'Instance', 'label_values(nsvisor_service_info{job=~"$job"}, instance)'),
  queryVariable('name', 'Service', 'label_values(nsvisor_service_info{job=~"$job", instance=~"$instance"}, name)'),
];

const stateCount = (state: string) => ({ expr: `count(nsvisor_service_state{${sel(`state="${state}"`)}} == 1) or vector(0)`, legend: state });

const overview = [
  stat({ title: 'Running', description: 'Services in state running.', unit: 'none', w: 4, h: 4, queries: [stateCount('running')] }),
  stat({ title: 'Backoff', description: 'Services waiting to be restarted after a failure.', unit: 'none', w: 4, h: 4, queries: [stateCount('backoff')] }),
  stat({ title: 'Failed', description: 'Services whose start can never work (bad command, rootfs, limit).', unit: 'none', w: 4, h: 4, queries: [stateCount('failed')] }),
  stat({ title: 'Restarts over the range', description: 'Restarts of the selected services in the time range.', unit: 'none', w: 6, h: 4, queries: [{ expr: `sum(increase(nsvisor_service_restarts_total{${sel()}}[$__range]))`, legend: 'restarts' }] }),
  stat({ title: 'OOM kills over the range', description: 'Processes killed by the OOM killer in the time range.', unit: 'none', w: 6, h: 4, queries: [{ expr: `sum(increase(nsvisor_service_oom_kills_total{${sel()}}[$__range]))`, legend: 'OOM kills' }] }),
];

const services = [
  table(
    {
      title: 'Services', description: 'One line per service, as `nsvisor status` shows it.', unit: 'none', w: 24, h: 8,
      queries: [
        { expr: `max by (name, state) (nsvisor_service_state{${sel()}} == 1)`, instant: true },
        { expr: `max by (name) ((time() - nsvisor_service_start_time_seconds{${sel()}}) * on (job, instance, name) nsvisor_service_state{${sel('state="running"')}})`, instant: true },
        { expr: `max by (name) (nsvisor_service_restarts_total{${sel()}})`, instant: true },
        { expr: `max by (name) (nsvisor_service_last_exit_code{${sel()}})`, instant: true },
        { expr: `sum by (name) (${rate('nsvisor_service_cpu_usage_seconds_total')})`, instant: true },
        { expr: `max by (name) (nsvisor_service_memory_working_set_bytes{${sel()}})`, instant: true },
        { expr: `max by (name) (nsvisor_service_spec_memory_limit_bytes{${sel()}})`, instant: true },
      ],
    },
    [
      { title: 'state (1 = current)', unit: 'none' }, { title: 'uptime', unit: 's' }, { title: 'restarts', unit: 'none' },
      { title: 'last exit code', unit: 'none' }, { title: 'cpu', unit: 'percentunit' }, { title: 'memory', unit: 'bytes' }, { title: 'memory limit (0 = none)', unit: 'bytes' },
    ],
  ),
];

const lifecycle = [
  stateTimeline({ title: 'State', description: 'The state of each service over time.', unit: 'none', w: 24, h: 8, queries: [{ expr: `max by (name, state) (nsvisor_service_state{${sel()}}) == 1`, legend: '{{name}} {{state}}' }] }),
  timeseries({ title: 'Exits by reason', description: 'Instances ended per interval, by exit reason.', unit: 'none', w: 8, h: 8, queries: [{ expr: `sum by (name, reason) (increase(nsvisor_service_exits_total{${sel()}}[$__rate_interval])) > 0`, legend: '{{name}} {{reason}}' }] }),
  timeseries({ title: 'Shutdown kills', description: 'Stops that ran out of stop.timeout and ended in SIGKILL.', unit: 'none', w: 8, h: 8, queries: [{ expr: `sum by (name) (increase(nsvisor_service_shutdown_kills_total{${sel()}}[$__rate_interval]))`, legend: '{{name}}' }] }),
  timeseries({ title: 'Orphans reaped', description: 'Processes of the service whose parent ended first, reaped by its nsvisor-init, per interval.', unit: 'none', w: 8, h: 8, queries: [{ expr: `sum by (name) (increase(nsvisor_service_reaped_total{${sel()}}[$__rate_interval]))`, legend: '{{name}}' }] }),
  timeseries({ title: 'Instances', description: 'Instances running and ready, against those asked for (instances, nsvisor scale).', unit: 'none', w: 8, h: 8, queries: [
    { expr: `max by (name) (nsvisor_service_instances{${sel()}})`, legend: '{{name}} running' },
    { expr: `max by (name) (nsvisor_service_desired_instances{${sel()}})`, legend: '{{name}} desired' },
  ] }),
  timeseries({ title: 'Failed health checks', description: 'Health checks that failed per interval (services with a health check); enough in a row replace the instance.', unit: 'none', w: 8, h: 8, queries: [{ expr: `sum by (name) (increase(nsvisor_service_health_checks_total{${sel('result="failed"')}}[$__rate_interval]))`, legend: '{{name}}' }] }),
  timeseries({ title: 'Spawn latency', description: 'From the start of an attempt until the command runs.', unit: 's', w: 8, h: 8, queries: quantiles('nsvisor_service_spawn_duration_seconds', 'spawn') }),
  timeseries({ title: 'Ready latency', description: 'From the start of an attempt until the service is ready.', unit: 's', w: 8, h: 8, queries: quantiles('nsvisor_service_ready_duration_seconds', 'ready') }),
  timeseries({ title: 'Shutdown latency', description: 'From the stop signal until nothing of the instance runs.', unit: 's', w: 8, h: 8, queries: quantiles('nsvisor_service_shutdown_duration_seconds', 'shutdown') }),
];

const cpu = [
  timeseries({ title: 'CPU usage', description: 'CPU seconds per second (1 = one full CPU).', unit: 'percentunit', w: 8, h: 8, queries: [{ expr: `sum by (name) (${rate('nsvisor_service_cpu_usage_seconds_total')})`, legend: '{{name}}' }] }),
  timeseries({ title: 'Share of CPU quota', description: 'CPU usage against resources.cpus (services with a quota only).', unit: 'percentunit', w: 8, h: 8, queries: [{ expr: `sum by (name) (${rate('nsvisor_service_cpu_usage_seconds_total')}) / on (name) max by (name) (nsvisor_service_spec_cpu_quota_seconds{${sel()}} / nsvisor_service_spec_cpu_period_seconds{${sel()}})`, legend: '{{name}}' }] }),
  timeseries({ title: 'CPU throttling', description: 'Time throttled by the quota, per second.', unit: 'percentunit', w: 8, h: 8, queries: [{ expr: `sum by (name) (${rate('nsvisor_service_cpu_throttled_seconds_total')})`, legend: '{{name}}' }] }),
];

const memory = [
  timeseries({ title: 'Working set against the limit', description: 'Memory the kernel cannot reclaim cheaply, and resources.memory.', unit: 'bytes', w: 12, h: 8, queries: [
    { expr: `max by (name) (nsvisor_service_memory_working_set_bytes{${sel()}})`, legend: '{{name}} working set' },
    { expr: `max by (name) (nsvisor_service_spec_memory_limit_bytes{${sel()}} > 0)`, legend: '{{name}} limit' },
  ] }),
  timeseries({ title: 'OOM kills', description: 'Processes killed by the OOM killer per interval.', unit: 'none', w: 12, h: 8, queries: [{ expr: `sum by (name) (increase(nsvisor_service_oom_kills_total{${sel()}}[$__rate_interval]))`, legend: '{{name}}' }] }),
];

const tasks = [
  timeseries({ title: 'Tasks against the limit', description: 'Threads in the service cgroup, and resources.pids.', unit: 'none', w: 24, h: 8, queries: [
    { expr: `max by (name) (nsvisor_service_tasks{${sel()}})`, legend: '{{name}} tasks' },
    { expr: `max by (name) (nsvisor_service_spec_tasks_limit{${sel()}} > 0)`, legend: '{{name}} limit' },
  ] }),
];

const network = (['receive', 'transmit'] as const).map((way) =>
  timeseries({ title: `Network ${way}`, description: `Bytes per second ${way === 'receive' ? 'received' : 'sent'} on each interface of the services with a network namespace of their own (lo left out).`, unit: 'Bps', w: 12, h: 8, queries: [{ expr: `sum by (name, interface) (${rate(`nsvisor_service_network_${way}_bytes_total`)})`, legend: '{{name}} {{interface}}' }] }),
);

const pressure = ['cpu', 'memory', 'io'].map((r) =>
  timeseries({ title: `${r.toUpperCase()} pressure`, description: `Share of time some task of the service waited for ${r} (PSI).`, unit: 'percentunit', w: 8, h: 8, queries: [{ expr: `sum by (name) (${rate(`nsvisor_service_pressure_${r}_waiting_seconds_total`)})`, legend: '{{name}}' }] }),
);

const supervisor = [
  timeseries({ title: 'Stats collection time', description: 'nsvisor_collect_duration_seconds quantiles.', unit: 's', w: 8, h: 8, queries: [0.5, 0.99].map((q) => ({ expr: `histogram_quantile(${q}, sum by (le, instance) (rate(nsvisor_collect_duration_seconds_bucket{${selSupervisor}}[$__rate_interval])))`, legend: `{{instance}} p${q * 100}` })) }),
  timeseries({ title: 'Supervisor memory', description: 'Resident memory of the nsvisor process.', unit: 'bytes', w: 8, h: 8, queries: [{ expr: `process_resident_memory_bytes{${selSupervisor}}`, legend: '{{instance}}' }] }),
  timeseries({ title: 'Reloads', description: 'nsvisor reload (and SIGHUP) per interval, by outcome.', unit: 'none', w: 8, h: 8, queries: [{ expr: `sum by (instance, result) (increase(nsvisor_reloads_total{${selSupervisor}}[$__rate_interval]))`, legend: '{{instance}} {{result}}' }] }),
  timeseries({ title: 'Supervisor event loop lag p99', description: 'From prom-client\'s default metrics.', unit: 's', w: 8, h: 8, queries: [{ expr: `nodejs_eventloop_lag_p99_seconds{${selSupervisor}}`, legend: '{{instance}}' }] }),
];

export const dashboard: Dashboard = {
  uid: 'nsvisor',
  title: 'nsvisor',
  description: 'Services supervised by nsvisor: lifecycle, CPU, memory, tasks, network and pressure from GET /metrics.',
  tags: ['nsvisor'],
  editable: true,
  graphTooltip: 1,
  schemaVersion: 39,
  refresh: '30s',
  time: { from: 'now-1h', to: 'now' },
  templating: { list: variables },
  annotations: { list: [] },
  panels: layout([
    { title: 'Overview', panels: overview },
    { title: 'Services', panels: services },
    { title: 'Lifecycle', panels: lifecycle },
    { title: 'CPU', panels: cpu },
    { title: 'Memory', panels: memory },
    { title: 'Tasks', panels: tasks },
    { title: 'Network', panels: network },
    { title: 'Pressure', panels: pressure },
    { title: 'Supervisor', collapsed: true, panels: supervisor },
  ]),
};
