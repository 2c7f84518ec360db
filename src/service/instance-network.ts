// The address of an instance a successor adopts: its lease taken over from the supervisor that died, its veth found where that one left it.
import { formatIPv4, parseIPv4 } from '../config/addresses';
import type { ServiceConfig } from '../config/schema';
import { addon } from '../native';
import { hostIfName, Network } from '../net/network';
import type { KeeperState } from './keeper-files';

/** An instance's address on a bridge, as its launch leased it. */
export interface Leased {
  network: string;
  address: number;
}

/** What an adopted instance holds of a network, released at its end as a launch's would be. */
export interface AdoptedAddress {
  network: Network;
  address: number;
  /** Its veth's host end; null when the service let its end go (the pair went with it). */
  hostIf: string | null;
}

/** What the state file records of a leased address: with this supervisor's pid, the holder a successor takes it over from. */
export const addressRecord = (leased: Leased | null): KeeperState['network'] =>
  leased && { name: leased.network, address: formatIPv4(leased.address), holder: process.pid };

/**
 * Takes over the address of an instance being adopted (network.attach): its lease becomes this supervisor's, so no
 * later instance is given it. Null for a service on no bridge. Throws why it cannot, holding nothing then.
 */
export function takeAddress(state: KeeperState, settings: ServiceConfig, networks: Map<string, Network> | undefined): AdoptedAddress | null {
  const attach = settings.network?.attach;
  if (!attach) return null;
  const rec = state.network;
  if (!rec || rec.name !== attach) throw new Error(`its state file names no address on network ${attach}, so its lease cannot be taken over`);
  const network = networks?.get(attach);
  if (!network) throw new Error(`it is on network ${attach}, which this configuration does not declare`);
  const address = parseIPv4(rec.address);
  if (address === null) throw new Error(`its state file's address on network ${attach} is not an IPv4 address: ${JSON.stringify(rec.address)}`);
  network.takeOver(state.service, address, rec.holder);
  try {
    // Named after its nsvisor-init's pid, as connect() named it.
    const hostIf = hostIfName(state.service, state.initPid);
    return { network, address, hostIf: addon.netLinkIndex(hostIf, 0) === null ? null : hostIf };
  } catch (e) {
    void network.detach({ address });
    throw e;
  }
}
