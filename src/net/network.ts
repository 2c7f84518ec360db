// One bridge network on the host side: the bridge itself, its address pool and leases, and the veth of each attached process.
import { formatIPv4, Subnet } from '../config/addresses';
import { faultPoint } from '../fault/seam';
import { addon } from '../native';
import { AddressPool, layoutOf, SubnetLayout } from './ipam';
import { LeaseDir } from './leases';
import { connectOnPool, removeOnPool } from './pool';

/** A host-side veth name within IFNAMSIZ: "nsv-" + up to 5 characters of the owner + "-" + the pid in base 36. */
export function hostIfName(owner: string, pid: number): string {
  return `nsv-${owner.replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 5)}-${pid.toString(36)}`;
}

/** What one attached process got: remove it with Network.detach. */
export interface Attachment {
  network: string;
  hostIf: string;
  address: number;
  prefix: number;
  gateway: number;
}

export class Network {
  readonly layout: SubnetLayout;
  readonly pool: AddressPool;
  private readonly leases: LeaseDir;
  constructor(readonly name: string, subnet: Subnet | string) {
    this.layout = layoutOf(subnet);
    this.pool = new AddressPool(name, this.layout);
    this.leases = new LeaseDir(name);
  }

  /** The bridge, up, with the gateway address; reused when present. */
  ensure(): void {
    if (addon.netBridgeEnsure(this.name, this.layout.gateway, this.layout.subnet.prefix)) this.leases.markCreated();
  }

  /** Leases an address for `owner` (`wanted`, or the next free one); throws an AddressError when there is none. */
  lease(owner: string, wanted?: number): number {
    return this.leases.acquire(this.pool, owner, wanted);
  }

  /** Takes over the address of an adopted instance from `holder`, the supervisor that leased it; throws an AddressError when it cannot. */
  takeOver(owner: string, address: number, holder: number): void {
    this.leases.takeOver(this.pool, address, owner, holder);
  }

  /**
   * Connects the network namespace of `pid` (before it runs anything), on the netlink pool: veth host end on the bridge, eth0 inside with
   * `address`, up, default route via the gateway. On failure nothing of it is left and the error names the step.
   */
  async connect(pid: number, owner: string, address: number): Promise<Attachment> {
    const hostIf = hostIfName(owner, pid);
    const prefix = this.layout.subnet.prefix;
    faultPoint('netlink', hostIf);
    await connectOnPool({ pid, hostIf, bridge: this.name, address, prefix, gateway: this.layout.gateway });
    return { network: this.name, hostIf, address, prefix, gateway: this.layout.gateway };
  }

  /** Deletes the veth (when the namespace has not taken it already) and gives the address back. */
  async detach(att: { hostIf?: string; address: number }): Promise<void> {
    try {
      if (att.hostIf) await removeOnPool(att.hostIf);
    } finally {
      this.leases.release(this.pool, att.address);
    }
  }

  /** Deletes the bridge if nsvisor made it and no live process holds an address on it. */
  remove(): boolean {
    if (!this.leases.created() || this.leases.inUse()) return false;
    addon.netLinkDelete(this.name, 0);
    this.leases.created(true);
    this.leases.removeIfEmpty();
    return true;
  }

  describe(address: number): string {
    return `${formatIPv4(address)}/${this.layout.subnet.prefix} on ${this.name}`;
  }
}
