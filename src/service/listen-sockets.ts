// The listening sockets of a service's `listen`: made and held by the supervisor, passed to each instance as fds 3.. (LISTEN_FDS).
import * as dns from 'dns';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';

import type { ListenAddress } from '../config/addresses';
import { faultPoint } from '../fault/seam';
import { addon } from '../native';

/** A socket of `listen` that could not be made: the service cannot start until it can. `errno` is the kernel's answer. */
export class ListenError extends Error {
  constructor(message: string, readonly errno: number | null) {
    super(message);
  }
}

const BACKLOG = 4096;
/** Like systemd's SocketMode default: anyone who can reach the path may connect. */
const UNIX_MODE = 0o666;

/** The LISTEN_FDNAMES entry of a socket: its address, with the ":" that separates names replaced. */
export function fdName(a: ListenAddress): string {
  return (a.type === 'tcp' ? `tcp-${a.host}-${a.port}` : `unix-${a.path}`).replace(/:/g, '_');
}

interface Held {
  fd: number;
  address: ListenAddress;
  /** The inode of a unix socket file we made, so close() removes only that file. */
  inode?: number;
}

export class ListenSockets {
  private constructor(private held: Held[]) {}

  /** Makes every socket, in the supervisor's own network namespace; on any failure closes those made and throws a ListenError. */
  static async open(service: string, addresses: ListenAddress[]): Promise<ListenSockets> {
    const sockets = new ListenSockets([]);
    try {
      for (const a of addresses) sockets.held.push(await openOne(a));
    } catch (e) {
      const failed = addresses[sockets.held.length];
      sockets.close();
      const err = e as Error & { errno?: number };
      throw new ListenError(`${service}: listen ${failed.url}: ${err.message}`, typeof err.errno === 'number' ? Math.abs(err.errno) : null);
    }
    return sockets;
  }

  /**
   * Holds sockets made before, by a supervisor that died: each fd already listens on its address (adopted-sockets.ts
   * checks that). A unix socket's file is removed at close() as if made here, if it is still the one there now.
   */
  static adopted(sockets: { fd: number; address: ListenAddress }[]): ListenSockets {
    return new ListenSockets(sockets.map((s) => (s.address.type === 'unix' ? { ...s, inode: inodeOf(s.address.path) } : s)));
  }

  get fds(): number[] {
    return this.held.map((h) => h.fd);
  }

  /** LISTEN_FDS and LISTEN_FDNAMES; nsvisor-init adds LISTEN_PID once it knows the main process's pid. */
  env(): Record<string, string> {
    return { LISTEN_FDS: String(this.held.length), LISTEN_FDNAMES: this.held.map((h) => fdName(h.address)).join(':') };
  }

  /** Closes every socket and removes the unix socket files it made (unless something else has replaced them). */
  close(): void {
    for (const h of this.held) {
      fs.closeSync(h.fd);
      if (h.address.type !== 'unix' || h.inode === undefined) continue;
      try {
        if (fs.lstatSync(h.address.path).ino === h.inode) fs.unlinkSync(h.address.path);
      } catch {
        /* already gone */
      }
    }
    this.held = [];
  }
}

function inodeOf(file: string): number | undefined {
  try {
    return fs.lstatSync(file).ino;
  } catch {
    return undefined;
  }
}

async function openOne(a: ListenAddress): Promise<Held> {
  faultPoint('listen', a.url);
  if (a.type === 'tcp') {
    const ip = net.isIP(a.host) ? a.host : (await dns.promises.lookup(a.host)).address;
    return { fd: addon.listenTcp(ip, a.port, BACKLOG), address: a };
  }
  fs.mkdirSync(path.dirname(a.path), { recursive: true, mode: 0o755 });
  const fd = addon.listenUnix(a.path, BACKLOG, UNIX_MODE);
  return { fd, address: a, inode: fs.lstatSync(a.path).ino };
}
