// Address leases shared by every nsvisor process on a host network namespace: one O_EXCL file per address, reclaimed when its holder is dead.
import * as fs from 'fs';
import * as path from 'path';

import { formatIPv4, parseIPv4 } from '../config/addresses';
import { faultPoint } from '../fault/seam';
import { AddressError, AddressPool } from './ipam';

export const DEFAULT_LEASE_DIR = '/run/nsvisor/net';
const CREATED = 'bridge-created';

/** Whether process `pid` exists (ours to signal or not). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The directory of every nsvisor process's network state files. */
export function netStateRoot(): string {
  return process.env.NSVISOR_LEASE_DIR ?? DEFAULT_LEASE_DIR;
}

/** Our network namespace's inode, which names its state files: equal bridge names in other namespaces do not meet. */
export function netnsKey(): string {
  return fs.readlinkSync('/proc/self/ns/net').replace(/\D/g, '');
}

/** Leases of one bridge; the directory is named for our network namespace too, so equal bridge names elsewhere do not meet. */
export class LeaseDir {
  readonly dir: string;

  constructor(bridge: string, root = netStateRoot()) {
    this.dir = path.join(root, `${netnsKey()}-${bridge}`);
  }

  private file(address: number): string {
    return path.join(this.dir, formatIPv4(address));
  }

  /** Writes the lease unless a live process holds it; true when it is ours now. */
  private claim(address: number, owner: string): boolean {
    const file = this.file(address);
    for (let tries = 0; tries < 2; tries++) {
      try {
        faultPoint('lease', file);
        fs.writeFileSync(file, `${process.pid} ${owner}\n`, { flag: 'wx' });
        return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      if (this.holder(address)?.live) return false;
      fs.rmSync(file, { force: true }); // its holder died without letting go
    }
    return false;
  }

  holder(address: number): { pid: number; owner: string; live: boolean } | null {
    try {
      const [pid, owner] = fs.readFileSync(this.file(address), 'utf8').trim().split(' ');
      return { pid: Number(pid), owner, live: alive(Number(pid)) };
    } catch {
      return null;
    }
  }

  /** `wanted`, or the next address of the pool that no live process holds; throws an AddressError when none can be had. */
  acquire(pool: AddressPool, owner: string, wanted?: number): number {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    if (wanted !== undefined) {
      pool.reserve(wanted, owner);
      if (this.claim(wanted, owner)) return wanted;
      pool.release(wanted);
      const h = this.holder(wanted);
      throw new AddressError(`${owner}: ${formatIPv4(wanted)} on network ${pool.network} is already the address of ${h?.owner ?? 'another process'} (pid ${h?.pid ?? '?'})`);
    }
    return pool.next(owner, (a) => !this.claim(a, owner));
  }

  /**
   * Takes over `address` for `owner` from `holder`, the supervisor that leased it for an instance now adopted (dead, or
   * this process before an upgrade). Throws an AddressError when another live process holds it now.
   */
  takeOver(pool: AddressPool, address: number, owner: string, holder: number): void {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    pool.reserve(address, owner);
    const h = this.holder(address);
    if (h === null ? this.claim(address, owner) : !h.live || h.pid === holder || h.pid === process.pid) {
      if (h !== null) {
        fs.writeFileSync(`${this.file(address)}.tmp`, `${process.pid} ${owner}\n`);
        fs.renameSync(`${this.file(address)}.tmp`, this.file(address));
      }
      return;
    }
    pool.release(address);
    const now = this.holder(address);
    throw new AddressError(`${owner}: ${formatIPv4(address)} on network ${pool.network} is the address of ${now?.owner ?? 'another process'} (pid ${now?.pid ?? '?'}) now`);
  }

  release(pool: AddressPool, address: number): void {
    pool.release(address);
    const h = this.holder(address);
    if (h && h.pid === process.pid) fs.rmSync(this.file(address), { force: true });
    this.removeIfEmpty();
  }

  /** Records that nsvisor made the bridge, so whichever nsvisor process lets go of it last removes it. */
  markCreated(): void {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(this.dir, CREATED), `${process.pid}\n`);
  }

  /** Whether the bridge was made by nsvisor; `clear` forgets it. */
  created(clear = false): boolean {
    const file = path.join(this.dir, CREATED);
    if (clear) fs.rmSync(file, { force: true });
    return fs.existsSync(file);
  }

  /** Whether any live process still holds an address here. */
  inUse(): boolean {
    try {
      return fs.readdirSync(this.dir).some((name) => {
        const address = parseIPv4(name);
        return address !== null && this.holder(address)?.live;
      });
    } catch {
      return false;
    }
  }

  removeIfEmpty(): void {
    try {
      fs.rmdirSync(this.dir);
    } catch {
      /* leases left, or already gone */
    }
  }
}
