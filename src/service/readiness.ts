// Waiting until a started service is ready: sd_notify READY=1, a TCP connect or HTTP 2xx from its network namespace, or a check run inside it.
import { spawn } from 'child_process';
import * as http from 'http';
import * as net from 'net';

import { addon, initPath } from '../native';
import { disown, own } from '../process/owned-pids';
import type { ReadyCheck } from '../config/schema';

export interface ReadyProbe {
  /** Host pid of the service's nsvisor-init: probes connect from its network namespace. */
  pid: number;
  /** Resolves on the first READY=1 from the service's notify socket. */
  notified: Promise<void>;
  /** nsvisor-init's identity options of the service (identityArgs): an exec check runs as the service does. */
  identity: string[];
}

const POLL_MS = 100;

/** A TCP socket created in the network namespace of `pid` (the caller's own when pid is 0). */
function socketIn(pid: number): net.Socket {
  return pid ? new net.Socket({ fd: addon.netnsSocket(pid) }) : new net.Socket();
}

function tryTcp(pid: number, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = socketIn(pid);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => {
      s.destroy();
      resolve(false);
    });
    s.connect(port, '127.0.0.1');
  });
}

function tryHttp(pid: number, url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { createConnection: () => socketIn(pid).connect(Number(new URL(url).port || 80), new URL(url).hostname), timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300);
    });
    req.once('error', () => resolve(false));
    req.once('timeout', () => req.destroy());
  });
}

/** Runs argv inside every namespace of the service (through nsvisor-init --join); ready when it exits 0. */
function tryExec(pid: number, identity: string[], argv: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(initPath, ['--join', String(pid), '--drain', '0', ...identity, '--', ...argv], { stdio: 'ignore', argv0: 'nsvisor-init' });
    if (child.pid) own(child.pid);
    child.once('error', () => resolve(false));
    child.once('exit', (code) => {
      if (child.pid) disown(child.pid);
      resolve(code === 0);
    });
  });
}

async function poll(check: () => Promise<boolean>, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/**
 * Resolves when the service is ready; rejects with a message after `ready.timeout`, or when `signal` aborts
 * (the instance ended or a stop was asked for).
 */
export async function waitReady(ready: ReadyCheck | undefined, probe: ReadyProbe, netIsolated: boolean, signal: AbortSignal): Promise<void> {
  if (!ready) return;
  const pid = netIsolated ? probe.pid : 0;
  let check: Promise<void>;
  let what: string;
  switch (ready.type) {
    case 'notify':
      [check, what] = [probe.notified, 'READY=1 on NOTIFY_SOCKET'];
      break;
    case 'tcp':
      [check, what] = [poll(() => tryTcp(pid, ready.port), signal), `a TCP connect to port ${ready.port}`];
      break;
    case 'http':
      [check, what] = [poll(() => tryHttp(pid, ready.url), signal), `an HTTP 2xx from ${ready.url}`];
      break;
    case 'exec':
      [check, what] = [poll(() => tryExec(probe.pid, probe.identity, ready.command), signal), `${ready.command.join(' ')} to exit 0`];
      break;
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not ready within ${ready.timeout} ms (waiting for ${what})`)), ready.timeout);
  });
  const aborted = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error('ended before it was ready')), { once: true }));
  try {
    await Promise.race([check, timeout, aborted]);
  } finally {
    clearTimeout(timer);
  }
}
