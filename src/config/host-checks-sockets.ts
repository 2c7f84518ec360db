// Host checks of sockets a declared mount hides: the notify socket (under a bind of a host directory) and unix `listen` paths.
import * as path from 'path';

import { notifyDirOf } from '../service/notify';
import type { HostProblem } from './host-checks-facts';
import { coveringLayer, InsideView, Layer, locate } from './host-checks-view';
import type { Config, ServiceConfig } from './schema';

type DeclaredLayer = Layer & { index: number };

/** The declared mount over inside path `p` that shows something else there than the host has at `p`, or null. */
function hidingMount(view: InsideView, p: string): DeclaredLayer | null {
  const layer = coveringLayer(view, p);
  if (layer === null || layer.index === null) return null;
  const where = locate(view, p);
  if (typeof where === 'object' && 'host' in where && where.host === p) return null; // its own directory bound back in
  return layer as DeclaredLayer;
}

function mountText(layer: DeclaredLayer): string {
  return layer.type === 'bind' ? `the bind mount of ${layer.source} on ${layer.target}` : `the ${layer.type} on ${layer.target}`;
}

/** The notify socket's path for `name`: <dirname(control)>/notify/NAME.sock, as the service layer makes it. */
function notifySocketOf(config: Config, name: string): string {
  return path.join(notifyDirOf(config.supervisor.control), `${name}.sock`);
}

/**
 * NOTIFY_SOCKET is carried into the service over whatever it mounts, except where that would mean creating it in a
 * host directory: a declared bind mount covering it.
 */
export function notifyProblems(name: string, svc: ServiceConfig, config: Config, view: InsideView): HostProblem[] {
  if (svc.ready?.type !== 'notify') return [];
  const socket = notifySocketOf(config, name);
  const layer = hidingMount(view, socket);
  if (layer === null || layer.type !== 'bind') return [];
  const dir = path.dirname(socket);
  return [{
    service: name,
    path: `services.${name}.mounts[${layer.index}]`,
    message:
      `${mountText(layer)} covers ${dir}, where NOTIFY_SOCKET ${socket} is (ready.notify), and nsvisor does not create it in a host ` +
      `directory; bind a directory that does not hold ${dir}, or move supervisor.control out from under ${layer.target}`,
    permanent: true,
  }];
}

/** A unix `listen` path under a declared mount: the service has the socket (LISTEN_FDS) but cannot reach it by its path. */
export function listenPathProblems(name: string, svc: ServiceConfig, view: InsideView): HostProblem[] {
  if (view.rootfs !== null) return [];
  const problems: HostProblem[] = [];
  svc.listen.forEach((address, i) => {
    if (address.type !== 'unix') return;
    const layer = hidingMount(view, address.path);
    if (layer === null) return;
    problems.push({
      service: name,
      path: `services.${name}.listen[${i}]`,
      message:
        `${address.url} is hidden inside the service by mounts[${layer.index}] (${mountText(layer)}): the service still gets it as fd ` +
        `${3 + i} (LISTEN_FDS), but nothing inside can reach it by its path; move the socket out from under ${layer.target}, or bind ` +
        'its directory back in',
      permanent: false,
    });
  });
  return problems;
}
