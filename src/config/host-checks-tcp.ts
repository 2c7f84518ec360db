// Listening TCP sockets from /proc/net/tcp and tcp6, and whether binding an address would collide with one. Pure.
import * as net from 'net';

import type { TcpListener } from './host-checks-facts';

const LISTEN = '0A';

/** "0100007F" (a 32-bit word as the kernel printed it, in host byte order) -> its four bytes in memory order. */
function wordBytes(hex: string, littleEndian: boolean): number[] {
  const bytes = [0, 2, 4, 6].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return littleEndian ? bytes.reverse() : bytes;
}

/** The canonical text of an IPv6 address (lower case, zeros compressed, a mapped IPv4 address dotted). */
export function canonicalIPv6(text: string): string {
  const canonical = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (!mapped) return canonical;
  const [hi, lo] = [parseInt(mapped[1], 16), parseInt(mapped[2], 16)];
  return `::ffff:${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

function addressOf(hex: string, littleEndian: boolean): { family: 4 | 6; address: string } {
  if (hex.length === 8) return { family: 4, address: wordBytes(hex, littleEndian).join('.') };
  const bytes = [0, 8, 16, 24].flatMap((i) => wordBytes(hex.slice(i, i + 8), littleEndian));
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return { family: 6, address: canonicalIPv6(groups.join(':')) };
}

/** The listening sockets of a /proc/net/tcp or /proc/net/tcp6 text. */
export function parseProcNetTcp(text: string, littleEndian = true): TcpListener[] {
  const out: TcpListener[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== LISTEN) continue;
    const [hex, port] = f[1].split(':');
    out.push({ ...addressOf(hex, littleEndian), port: parseInt(port, 16), inode: Number(f[9]) });
  }
  return out;
}

/** An address as binding sees it: IPv4 (a mapped IPv6 one counts as its IPv4 address), IPv6, or a wildcard of either. */
function normal(family: number, address: string): { v4: string | null; v6: string | null; wildcard: boolean } {
  if (family === 4) return { v4: address, v6: null, wildcard: address === '0.0.0.0' };
  const text = canonicalIPv6(address);
  if (text.startsWith('::ffff:') && net.isIPv4(text.slice(7))) return normal(4, text.slice(7));
  return { v4: null, v6: text, wildcard: text === '::' };
}

/**
 * Whether binding host:port (SO_REUSEADDR, as the supervisor does) fails with EADDRINUSE because of `other`: the
 * same port and the same address, or a wildcard on either side; "::" is dual-stack, so it meets IPv4 too. A host
 * name meets only wildcards (whatever it resolves to, a wildcard listener has it).
 */
export function collides(host: string, port: number, other: TcpListener): boolean {
  if (other.port !== port) return false;
  const theirs = normal(other.family, other.address);
  const family = net.isIP(host);
  if (family === 0) return theirs.wildcard;
  const ours = normal(family, host);
  if (ours.wildcard && ours.v6 !== null) return true;
  if (theirs.wildcard && theirs.v6 !== null) return true;
  if (ours.v4 !== null && theirs.v4 !== null) return ours.wildcard || theirs.wildcard || ours.v4 === theirs.v4;
  if (ours.v6 !== null && theirs.v6 !== null) return ours.v6 === theirs.v6;
  return false;
}
