// The nftables text of NAT: table `ip nsvisor`, two base chains per network, every rule tagged with the supervisor's pid. Pure.

/** nsvisor's own table; nothing else of the host's firewall is touched. */
export const NAT_TABLE = 'nsvisor';

export interface NatNetwork {
  /** The bridge. */
  name: string;
  /** Its subnet, e.g. 10.88.0.0/24. */
  cidr: string;
}

/** The postrouting (masquerade) and forward (accept) chains of one network. */
export function natChains(network: string): [string, string] {
  return [`nat-${network}`, `fwd-${network}`];
}

/** The comment on each of our rules: it says which supervisor owns the chain, so a dead one's chains can be found. */
export function ownerTag(pid: number): string {
  return `nsvisor pid ${pid}`;
}

/**
 * One transaction that makes (or remakes) the chains of `n`: created if absent, emptied, filled. Running it again
 * leaves the same single copy of each rule. Masquerade: what leaves the subnet by another interface than the bridge.
 */
export function addScript(n: NatNetwork, pid: number): string {
  const [post, fwd] = natChains(n.name);
  const tag = `comment "${ownerTag(pid)}"`;
  return [
    `add table ip ${NAT_TABLE}`,
    `add chain ip ${NAT_TABLE} ${post} { type nat hook postrouting priority srcnat; policy accept; }`,
    `flush chain ip ${NAT_TABLE} ${post}`,
    `add rule ip ${NAT_TABLE} ${post} ip saddr ${n.cidr} oifname != "${n.name}" masquerade ${tag}`,
    `add chain ip ${NAT_TABLE} ${fwd} { type filter hook forward priority filter; policy accept; }`,
    `flush chain ip ${NAT_TABLE} ${fwd}`,
    `add rule ip ${NAT_TABLE} ${fwd} iifname "${n.name}" ip saddr ${n.cidr} accept ${tag}`,
    `add rule ip ${NAT_TABLE} ${fwd} oifname "${n.name}" ip daddr ${n.cidr} ct state established,related accept ${tag}`,
    '',
  ].join('\n');
}

/** One transaction deleting these chains of our table (with their rules). */
export function deleteScript(chains: string[]): string {
  return chains.map((c) => `delete chain ip ${NAT_TABLE} ${c}\n`).join('');
}

/** From `nft -j list table ip nsvisor`: each chain of the table and the pid its rules are tagged with (null when untagged). */
export function chainOwners(listing: string): Map<string, number | null> {
  const owners = new Map<string, number | null>();
  const items = (JSON.parse(listing) as { nftables?: Record<string, any>[] }).nftables ?? [];
  for (const item of items) if (item.chain) owners.set(String(item.chain.name), null);
  for (const item of items) {
    const m = /^nsvisor pid (\d+)$/.exec(String(item.rule?.comment ?? ''));
    if (m) owners.set(String(item.rule.chain), Number(m[1]));
  }
  return owners;
}
