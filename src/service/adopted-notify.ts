// The sd_notify socket of an instance a successor adopts: bound again at the path its NOTIFY_SOCKET names, where the service can reach it.
import type { ServiceConfig } from '../config/schema';
import type { KeeperState } from './keeper-files';
import { needsNotify, NotifyChannel, notifyCarried, openNotifyAt } from './notify';
import type { InstanceOptions } from './runtime';

/**
 * The notify socket of an instance being adopted, bound again at the path its NOTIFY_SOCKET names (the dead
 * supervisor's went with it), or null when its service needs none. Throws when the service could not reach it.
 */
export function rebindNotify(state: KeeperState, settings: ServiceConfig, opts: Pick<InstanceOptions, 'onStatusText' | 'onWatchdog'>): NotifyChannel | null {
  if (!needsNotify(settings)) return null;
  const at = state.notify;
  if (typeof at !== 'string' || !at.startsWith('/') || !at.endsWith(`/${state.cgroup}.sock`)) {
    throw new Error(`${state.cgroup}: its state file names no notify socket (${JSON.stringify(at)}), so its NOTIFY_SOCKET cannot be bound again`);
  }
  // A rootfs or a tmpfs over the socket's directory: the service holds the dead socket's own mount, which a new bind does not reach.
  if (notifyCarried(state.initPid, at)) {
    throw new Error(`its NOTIFY_SOCKET ${at} is carried into its mount namespace (a rootfs or tmpfs hides its directory), and a new socket there would not reach it`);
  }
  return openNotifyAt(at, { onStatus: opts.onStatusText, onWatchdog: opts.onWatchdog });
}
