// The listen sockets of an adopted instance, got back from its main process (pidfd_getfd): the same sockets, not new ones.
import * as fs from 'fs';
import * as net from 'net';

import type { ListenAddress } from '../config/addresses';
import { addon } from '../native';
import { ListenSockets } from './listen-sockets';

type Found = NonNullable<ReturnType<typeof addon.listeningAddress>>;

/** Whether a socket listening on `got` is the one `a` declares (a host name matches any address on its port). */
function matches(a: ListenAddress, got: Found): boolean {
  if (a.type === 'unix') return got.type === 'unix' && got.path === a.path;
  if (got.type !== 'tcp' || got.port !== a.port) return false;
  return !net.isIP(a.host) || normalIp(a.host) === normalIp(got.host);
}

/** IPv6 in one spelling (the URL parser's), IPv4 as is. */
const normalIp = (ip: string) => (net.isIPv6(ip) ? new URL(`http://[${ip}]/`).hostname : ip);

/**
 * Copies into this process each socket of `addresses` that process `pid` (an adopted instance's main process, which got
 * them as LISTEN_FDS) holds listening, found among all its fds (it may have moved them); throws naming the address
 * it does not hold, or why its fds cannot be read, after closing the copies made.
 */
export function takeListenSockets(service: string, pid: number, addresses: ListenAddress[]): ListenSockets {
  const pidfd = addon.pidfdOpen(pid);
  const taken: ({ fd: number; address: ListenAddress } | undefined)[] = addresses.map(() => undefined);
  try {
    const fdDir = `/proc/${pid}/fd`;
    for (const name of fs.readdirSync(fdDir)) {
      if (taken.every(Boolean)) break;
      if (!/^socket:/.test(readlink(`${fdDir}/${name}`))) continue;
      const fd = addon.pidfdGetfd(pidfd, Number(name));
      if (fd === null) continue;
      const got = addon.listeningAddress(fd);
      const i = got ? addresses.findIndex((a, k) => !taken[k] && matches(a, got)) : -1;
      if (i < 0) fs.closeSync(fd);
      else taken[i] = { fd, address: addresses[i] };
    }
    const missing = addresses.filter((_, k) => !taken[k]);
    if (missing.length) throw new Error(`its main process ${pid} holds no socket listening on ${missing.map((a) => a.url).join(', ')}`);
    return ListenSockets.adopted(taken as { fd: number; address: ListenAddress }[]);
  } catch (e) {
    for (const t of taken) if (t) fs.closeSync(t.fd);
    throw new Error(`${service}: cannot take its listen sockets back: ${(e as Error).message}`);
  } finally {
    fs.closeSync(pidfd);
  }
}

function readlink(file: string): string {
  try {
    return fs.readlinkSync(file);
  } catch {
    return ''; // closed meanwhile
  }
}
