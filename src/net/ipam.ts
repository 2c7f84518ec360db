// IPv4 address management of one subnet: gateway, broadcast, and the next free host address. Pure.
import { formatIPv4, parseSubnet, placeInSubnet, Subnet } from '../config/addresses';

export interface SubnetLayout {
  subnet: Subnet;
  network: number;
  /** The first host address: the bridge's own. */
  gateway: number;
  broadcast: number;
  /** Host addresses for services: gateway+1 .. broadcast-1. */
  first: number;
  last: number;
}

/** A request that cannot be met: a taken or misplaced address, or a full subnet. */
export class AddressError extends Error {}

export function layoutOf(subnet: Subnet | string): SubnetLayout {
  const s = typeof subnet === 'string' ? parseSubnet(subnet) : subnet;
  const size = 2 ** (32 - s.prefix);
  const broadcast = s.base + size - 1;
  return { subnet: s, network: s.base, gateway: s.base + 1, broadcast, first: s.base + 2, last: broadcast - 1 };
}

/** Addresses of one network by owner; `taken` tells about addresses held elsewhere (another process's leases). */
export class AddressPool {
  private readonly owners = new Map<number, string>();

  constructor(readonly network: string, readonly layout: SubnetLayout) {}

  private get where(): string {
    return `network ${this.network} (${this.layout.subnet.cidr})`;
  }

  /** Takes `address` for `owner`, or throws why it cannot be had. */
  reserve(address: number, owner: string): number {
    const text = formatIPv4(address);
    const place = placeInSubnet(address, this.layout.subnet);
    if (place === 'outside') throw new AddressError(`${owner}: ${text} is not in ${this.where}`);
    if (place === 'gateway') throw new AddressError(`${owner}: ${text} is the gateway of ${this.where}`);
    if (place === 'reserved') throw new AddressError(`${owner}: ${text} is not a host address of ${this.where}`);
    const holder = this.owners.get(address);
    if (holder !== undefined && holder !== owner) throw new AddressError(`${owner}: ${text} on ${this.where} is already the address of ${holder}`);
    this.owners.set(address, owner);
    return address;
  }

  /** The lowest free host address for `owner`, skipping any for which `taken` says yes. */
  next(owner: string, taken: (address: number) => boolean = () => false): number {
    for (let a = this.layout.first; a <= this.layout.last; a++) {
      if (this.owners.has(a) || taken(a)) continue;
      this.owners.set(a, owner);
      return a;
    }
    const hosts = this.layout.last - this.layout.first + 1;
    throw new AddressError(`${owner}: no free address left on ${this.where}: all ${hosts} host addresses are in use`);
  }

  release(address: number): void {
    this.owners.delete(address);
  }

  ownerOf(address: number): string | undefined {
    return this.owners.get(address);
  }
}
