// A service's sd_notify socket: NOTIFY_SOCKET for its environment, READY=1 as a promise, STATUS= as text.
import * as fs from 'fs';
import * as path from 'path';

import type { ServiceConfig } from '../config/schema';
import { addon, NotifySocket } from '../native';

export interface NotifyChannel {
  path: string;
  /** Resolves on the first READY=1. */
  notified: Promise<void>;
  close(): void;
}

/** Parses one datagram ("READY=1\nSTATUS=Serving\n") into its assignments. */
export function parseNotify(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return out;
}

export interface NotifyListeners {
  /** STATUS=: the service's own words. */
  onStatus(text: string): void;
  /** WATCHDOG=1: it is alive. */
  onWatchdog(): void;
}

/** Whether a service talks sd_notify to its supervisor: READY=1 (ready: notify) or WATCHDOG=1 (health: watchdog). */
export const needsNotify = (s: ServiceConfig) => s.ready?.type === 'notify' || s.health?.type === 'watchdog';

/** Binds the notify socket of instance `name` in `dir` (made if missing). */
export function openNotify(dir: string, name: string, on: NotifyListeners): NotifyChannel {
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  return openNotifyAt(path.join(dir, `${name}.sock`), on);
}

/** Binds a notify socket at `sockPath`, replacing whatever file is there (a dead supervisor's socket). */
export function openNotifyAt(sockPath: string, on: NotifyListeners): NotifyChannel {
  let ready!: () => void;
  const notified = new Promise<void>((r) => (ready = r));
  const socket: NotifySocket = new addon.NotifySocket(sockPath, (text) => {
    const msg = parseNotify(text);
    if (msg.get('READY') === '1') ready();
    const status = msg.get('STATUS');
    if (status !== undefined) on.onStatus(status);
    if (msg.get('WATCHDOG') === '1') on.onWatchdog();
  });
  return { path: sockPath, notified, close: () => socket.close() };
}

/** Where the notify sockets of a supervisor's services live: beside its control socket. */
export const notifyDirOf = (controlSocket: string) => path.join(path.dirname(controlSocket), 'notify');

/**
 * Whether the notify socket reaches the process `pid` as a mount of the socket itself (a rootfs or a tmpfs hid its
 * directory, so the spawn carried it in): that mount holds the socket a dead supervisor bound, and a new bind at the
 * path is not seen through it. False when the process sees the path through the host's directory.
 */
export function notifyCarried(pid: number, sockPath: string): boolean {
  const unescape = (p: string) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  const lines = fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n');
  return lines.some((l) => unescape(l.split(' ')[4] ?? '') === sockPath);
}
