// One probe of a service from inside it: a TCP connect or HTTP 2xx from its network namespace, or a command run in all its namespaces; bounded in time.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';

import type { Probe } from '../config/service';
import { addon, initPath } from '../native';
import { disown, own } from '../process/owned-pids';

/** Where a probe runs: the instance's nsvisor-init (its namespaces) and whom an exec probe runs as. */
export interface ProbeTarget {
  /** Host pid of the instance's nsvisor-init. */
  pid: number;
  /** Connect from its network namespace (else from the supervisor's own). */
  netIsolated: boolean;
  /** nsvisor-init's identity options of the service (identityArgs): an exec probe runs as the service does. */
  identity: string[];
}

/** A TCP socket created in the network namespace of `pid` (the caller's own when pid is 0). */
function socketIn(pid: number): net.Socket {
  return pid ? new net.Socket({ fd: addon.netnsSocket(pid) }) : new net.Socket();
}

function tryTcp(pid: number, port: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const s = socketIn(pid);
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    signal.addEventListener('abort', () => done(false), { once: true });
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.connect(port, '127.0.0.1');
  });
}

function tryHttp(pid: number, url: string, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const req = http.get(url, { signal, createConnection: () => socketIn(pid).connect(Number(u.port || 80), u.hostname) }, (res) => {
      res.resume();
      resolve(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300);
    });
    req.once('error', () => resolve(false));
  });
}

function childrenOf(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** SIGKILL to a pid (or, negative, a process group) that may be gone already. */
function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone already */
  }
}

/** Runs argv inside every namespace of the service (through nsvisor-init --join); true when it exits 0 in time. */
function tryExec(target: ProbeTarget, argv: string[], signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(initPath, ['--join', String(target.pid), '--drain', '0', ...target.identity, '--', ...argv], { stdio: 'ignore', argv0: 'nsvisor-init' });
    if (child.pid) own(child.pid);
    // The command is nsvisor-init's child inside the service, leader of a process group of its own: killing only
    // nsvisor-init would leave it (and what it forked) to the service's PID 1. So its group goes first.
    const onAbort = () => {
      for (const pid of childrenOf(child.pid ?? 0)) killQuietly(-pid);
      child.kill('SIGKILL');
    };
    signal.addEventListener('abort', onAbort, { once: true });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => {
      signal.removeEventListener('abort', onAbort);
      if (child.pid) disown(child.pid);
      resolve(code === 0 && !signal.aborted);
    });
  });
}

/** One probe, given up (false) after `timeoutMs` or when `outer` aborts. */
export async function probeOnce(probe: Probe, target: ProbeTarget, timeoutMs: number, outer?: AbortSignal): Promise<boolean> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  const forward = () => ctl.abort();
  outer?.addEventListener('abort', forward, { once: true });
  const pid = target.netIsolated ? target.pid : 0;
  try {
    if (probe.type === 'tcp') return await tryTcp(pid, probe.port, ctl.signal);
    if (probe.type === 'http') return await tryHttp(pid, probe.url, ctl.signal);
    return await tryExec(target, probe.command, ctl.signal);
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', forward);
  }
}

/** What a probe waits for, in words: "a TCP connect to port 8080". */
export function describeProbe(probe: Probe): string {
  if (probe.type === 'tcp') return `a TCP connect to port ${probe.port}`;
  if (probe.type === 'http') return `an HTTP 2xx from ${probe.url}`;
  return `${probe.command.join(' ')} to exit 0`;
}
