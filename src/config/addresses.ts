// Parsing of the addresses a configuration names: host:port endpoints, listen URLs, IPv4 addresses and subnets.

export interface HostPort {
  host: string;
  port: number;
}

export type ListenAddress =
  | { type: 'tcp'; url: string; host: string; port: number }
  | { type: 'unix'; url: string; path: string };

export interface Subnet {
  /** As written, e.g. "10.88.0.0/24". */
  cidr: string;
  /** The network address as a 32-bit unsigned number. */
  base: number;
  prefix: number;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The address as a 32-bit unsigned number, or null when it is not dotted-quad IPv4. */
export function parseIPv4(text: string): number | null {
  const m = IPV4.exec(text);
  if (!m) return null;
  const octets = m.slice(1).map(Number);
  if (octets.some((o) => o > 255)) return null;
  return octets.reduce((n, o) => n * 256 + o, 0);
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** "10.88.0.0/24" with a prefix of at most /30 (room for the gateway and one service); throws a message for the user. */
export function parseSubnet(text: string): Subnet {
  const [addr, prefixText, ...rest] = text.split('/');
  const base = parseIPv4(addr);
  const prefix = /^\d{1,2}$/.test(prefixText ?? '') ? Number(prefixText) : NaN;
  if (base === null || rest.length || !(prefix >= 0 && prefix <= 32)) {
    throw new Error(`expected an IPv4 subnet like 10.88.0.0/24, got ${JSON.stringify(text)}`);
  }
  if (prefix > 30) throw new Error(`/${prefix} leaves no room for the gateway and a service; use /30 or shorter`);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  if ((base & ~mask) >>> 0 !== 0) {
    throw new Error(`${text} has host bits set; did you mean ${formatIPv4((base & mask) >>> 0)}/${prefix}?`);
  }
  return { cidr: text, base, prefix };
}

/** Where `address` sits in `subnet`: a usable host, the gateway (first address), or not usable at all. */
export function placeInSubnet(address: number, subnet: Subnet): 'host' | 'gateway' | 'outside' | 'reserved' {
  const size = 2 ** (32 - subnet.prefix);
  const offset = address - subnet.base;
  if (offset < 0 || offset >= size) return 'outside';
  if (offset === 0 || offset === size - 1) return 'reserved';
  return offset === 1 ? 'gateway' : 'host';
}

function parsePort(text: string): number | null {
  return /^\d{1,5}$/.test(text) && Number(text) <= 65535 ? Number(text) : null;
}

/** "127.0.0.1:9753", "[::1]:9753" or "localhost:9753"; null when it is none of these. */
export function parseHostPort(text: string): HostPort | null {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d+)$/.exec(text);
  if (!m) return null;
  const port = parsePort(m[2]);
  const host = m[1].startsWith('[') ? m[1].slice(1, -1) : m[1];
  if (port === null || (/^[\d.]+$/.test(host) && parseIPv4(host) === null)) return null;
  return { host, port };
}

/** "tcp://HOST:PORT" or "unix:///absolute/path"; null otherwise. */
export function parseListen(text: string): ListenAddress | null {
  if (text.startsWith('tcp://')) {
    const hp = parseHostPort(text.slice('tcp://'.length));
    return hp && { type: 'tcp', url: text, ...hp };
  }
  if (text.startsWith('unix://')) {
    const path = text.slice('unix://'.length);
    // sun_path holds 108 bytes with the terminating NUL.
    return path.startsWith('/') && Buffer.byteLength(path) <= 107 ? { type: 'unix', url: text, path } : null;
  }
  return null;
}
