// The per-instance link work, synchronous over the addon: run on the netlink pool's threads, or directly.
import { addon } from '../native';

/** The interface that sits inside the service's namespace. */
export const PEER_NAME = 'eth0';

export interface ConnectRequest {
  pid: number;
  hostIf: string;
  bridge: string;
  address: number;
  prefix: number;
  gateway: number;
}

/** veth with its host end on the bridge; eth0 inside pid's namespace with the address, up, lo up, default route. Nothing is left on failure. */
export function connect(r: ConnectRequest): void {
  addon.netVethAdd(r.hostIf, r.bridge, r.pid, PEER_NAME);
  try {
    addon.netConfigure(r.pid, PEER_NAME, r.address, r.prefix, r.gateway);
  } catch (e) {
    addon.netLinkDelete(r.hostIf, 0);
    throw e;
  }
}

/** Deletes a link of our namespace; false when it is gone already (a veth goes with its peer's namespace). */
export function remove(name: string): boolean {
  return addon.netLinkDelete(name, 0);
}

/** Moves host link `name` into pid's namespace under the same name and sets it (and lo) up there. */
export function moveIn(name: string, pid: number): void {
  addon.netLinkMove(name, pid, null);
  addon.netConfigure(pid, name, 0, 0, 0);
}

/** Moves link `name` out of the namespace `nsFd` refers to, back into ours (the process's: the main thread's). */
export function moveBack(name: string, nsFd: number): void {
  addon.netLinkMove(name, process.pid, null, nsFd);
}

export interface LinkCounters {
  interface: string;
  rxBytes: number;
  txBytes: number;
}

/** Byte counters of each interface but lo in pid's network namespace. */
export function counters(pid: number): LinkCounters[] {
  return addon.netLinkStats(pid).map((l) => ({ interface: l.name, rxBytes: l.rxBytes, txBytes: l.txBytes }));
}
