// NAT of the supervisor's `nat: true` networks: chains left by dead supervisors removed, ours added at start and deleted at stop, ip_forward with them.
import { alive } from './leases';
import { addScript, chainOwners, deleteScript, NAT_TABLE, natChains, NatNetwork } from './nat';
import { Forwarding } from './forwarding';
import { listTable, nft } from './nft';

/** NAT of one network could not be set up or removed; the message names the network and carries nft's words. */
export class NatError extends Error {}

export class Masquerade {
  constructor(
    public networks: NatNetwork[],
    private readonly forwarding = new Forwarding(),
    private readonly pid = process.pid,
  ) {}

  /**
   * Removes chains whose supervisor is dead, then (re)makes ours and turns forwarding on. Idempotent. Without a `nat`
   * network this is cleanup only, and best effort: a host without nft (or nf_tables) has nothing of ours to find.
   */
  async start(): Promise<void> {
    const names = this.networks.map((n) => n.name).join(', ');
    let left: number;
    try {
      const owners = await this.owners();
      const stale = [...owners].filter(([, pid]) => pid !== this.pid && (pid === null || !alive(pid))).map(([chain]) => chain);
      left = await this.drop(stale, owners.size);
    } catch (e) {
      if (this.networks.length === 0) return;
      throw e instanceof NatError ? e : this.failed(names, 'listing', e);
    }
    for (const n of this.networks) {
      await nft(['-f', '-'], addScript(n, this.pid)).catch((e) => {
        throw this.failed(n.name, 'adding masquerade', e);
      });
    }
    if (this.networks.length > 0) {
      await this.forwarding.enable().catch((e) => {
        throw this.failed(names, `turning on ${this.forwarding.sysctl}`, e);
      });
    } else if (left === 0) await this.forwarding.restore(); // a dead supervisor's change, with nothing of nsvisor's left to need it
  }

  /** Deletes the chains of our networks that we still own (another supervisor may have taken one over); forwarding back when none is left. */
  async stop(): Promise<void> {
    if (this.networks.length === 0) return;
    const owners = await this.owners().catch((e) => {
      throw this.failed(this.networks.map((n) => n.name).join(', '), 'listing', e);
    });
    const ours = this.networks.flatMap((n) => natChains(n.name)).filter((c) => owners.get(c) === this.pid);
    if ((await this.drop(ours, owners.size)) > 0) return;
    await this.forwarding.restore().catch((e) => {
      throw this.failed(this.networks.map((n) => n.name).join(', '), `restoring ${this.forwarding.sysctl}`, e);
    });
  }

  /**
   * Switches NAT to `next` networks (a reload): the chains of networks still or newly NATed are (re)made first, then
   * those of networks no longer NATed deleted, so a network that stays NATed never goes without.
   */
  async reconfigure(next: NatNetwork[]): Promise<void> {
    const gone = this.networks.filter((n) => !next.some((m) => m.name === n.name && m.cidr === n.cidr));
    this.networks = next;
    await this.start();
    if (gone.length === 0) return;
    const owners = await this.owners().catch((e) => {
      throw this.failed(gone.map((n) => n.name).join(', '), 'listing', e);
    });
    const ours = gone.flatMap((n) => natChains(n.name)).filter((c) => owners.get(c) === this.pid && !next.some((m) => natChains(m.name).includes(c)));
    if ((await this.drop(ours, owners.size)) > 0 || next.length > 0) return;
    await this.forwarding.restore().catch((e) => {
      throw this.failed(gone.map((n) => n.name).join(', '), `restoring ${this.forwarding.sysctl}`, e);
    });
  }

  /** Chains of our table by owner pid; empty when there is no table. */
  private async owners(): Promise<Map<string, number | null>> {
    const listing = await listTable(NAT_TABLE);
    return listing === null ? new Map() : chainOwners(listing);
  }

  /** Deletes chains in one transaction (the table with them when they were all of it); returns how many chains are left. */
  private async drop(chains: string[], total: number): Promise<number> {
    if (chains.length === 0) return total;
    const script = chains.length === total ? `delete table ip ${NAT_TABLE}\n` : deleteScript(chains);
    await nft(['-f', '-'], script).catch((e) => {
      throw this.failed([...new Set(chains.map((c) => c.replace(/^[a-z]+-/, '')))].join(', '), 'removing masquerade', e);
    });
    return total - chains.length;
  }

  private failed(network: string, doing: string, e: unknown): NatError {
    return new NatError(`network ${network}: nat: ${doing}: ${(e as Error).message}`);
  }
}
