// `nsvisor status [NAME] [--json]`: the services of the running supervisor as a table or JSON.
import { Command } from 'commander';

import { call, request } from '../control/client';
import type { ServiceStatus } from '../control/status';
import { bytes, duration, table } from './format';
import { resolveSocket, SocketFlags, withSocketOptions } from './socket-option';

function lastExit(s: ServiceStatus, now: number): string {
  const e = s.lastExit;
  if (!e) return '-';
  const what = e.reason === 'completed' ? 'completed' : e.signal ? `${e.reason} ${e.signal}` : `${e.reason} ${e.code ?? ''}`.trim();
  return `${what}, ${duration((now - Date.parse(e.at)) / 1000)} ago`;
}

/** The state column: the state, the retry's delay while in backoff, how many of several instances run. */
function stateText(s: ServiceStatus, now: number): string {
  const state = s.state === 'backoff' && s.nextStartAt ? `backoff (retry in ${duration((Date.parse(s.nextStartAt) - now) / 1000)})` : s.state;
  return s.instances ? `${state} (${s.runningInstances}/${s.desiredInstances})` : state;
}

/** One row per service; with `instances`, a service of several instances is followed by a row for each (NAME.0, ...). */
export function statusTable(services: ServiceStatus[], now = Date.now(), instances = true): string {
  const listed = services.flatMap((s) => (instances && s.instances ? [s, ...s.instances] : [s]));
  const rows = listed.map((s) => [
    s.name,
    stateText(s, now),
    s.pid === null ? '-' : String(s.pid),
    s.uptimeSeconds === null ? '-' : duration(s.uptimeSeconds),
    String(s.restarts),
    lastExit(s, now),
    s.cpuSeconds === null ? '-' : `${s.cpuSeconds.toFixed(1)}s`,
    s.memoryBytes === null ? '-' : `${bytes(s.memoryBytes)} / ${s.memoryLimitBytes ? bytes(s.memoryLimitBytes) : 'max'}`,
    s.failure ?? s.warning ?? s.statusText ?? (s.adoptedAt ? `adopted ${duration((now - Date.parse(s.adoptedAt)) / 1000)} ago` : ''),
  ]);
  return table(['NAME', 'STATE', 'PID', 'UPTIME', 'RESTARTS', 'LAST EXIT', 'CPU', 'MEMORY', 'NOTE'], rows);
}

/** What GET /v1/supervisor says of the supervisor itself. */
export interface SupervisorInfo {
  pid: number;
  version: string;
  startedAt: string;
}

/** The line under the table: which supervisor answered, the version it runs and since when (an upgrade restarts that clock). */
export function supervisorLine(info: SupervisorInfo, now = Date.now()): string {
  return `supervisor pid ${info.pid}, nsvisor ${info.version}, this program for ${duration((now - Date.parse(info.startedAt)) / 1000)}`;
}

export function register(program: Command): void {
  withSocketOptions(
    program
      .command('status')
      .description('show the services of the running supervisor: state, pid, uptime, restarts, last exit')
      .argument('[name]', 'one service only (its instances summed), or one instance of it: NAME.K')
      .option('--json', 'print JSON: an array of objects (one object with NAME)'),
  ).action(async (name: string | undefined, flags: SocketFlags & { json?: boolean }) => {
    const socket = await resolveSocket(flags);
    const path = `/v1/status/${name ? encodeURIComponent(name) : ''}`;
    if (flags.json) return void process.stdout.write(`${JSON.stringify(await call(socket, 'GET', path), null, 2)}\n`);
    // The whole table ends with the supervisor's own line; one that has no such endpoint (older) just has none.
    const [body, info] = await Promise.all([call(socket, 'GET', path), name ? null : request(socket, 'GET', '/v1/supervisor')]);
    const now = Date.now();
    process.stdout.write(`${statusTable(Array.isArray(body) ? body : [body], now, !name)}\n`);
    if (info?.status === 200) process.stdout.write(`${supervisorLine(info.body, now)}\n`);
  });
}
