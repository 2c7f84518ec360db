// A fake HostFacts for the host-check unit tests: a file tree from a table (symlinks resolved as the kernel does), set facts.
import * as path from 'path';

import type { CgroupFacts, FileFacts, HostFacts, LeaseHolder, ProcessFacts, TcpListener } from '../../src/config/host-checks';

/** A file with content (mode 0755 unless given), a directory, a symlink, or a device node. */
export type Entry = { file: string | Buffer; mode?: number } | { dir: true; mode?: number } | { link: string } | { device: true };

export const HYBRID: CgroupFacts = { kind: 'hybrid', controllers: ['memory', 'cpu', 'cpuacct', 'pids', 'freezer'], listedIn: '/proc/self/mountinfo', enableIn: null, missingParent: null };

/** A small Debian-like host: /bin a symlink to usr/bin, a shell, an ELF-less program, device nodes, /proc, /run, /tmp. */
export const BASE_FILES: Record<string, Entry> = {
  '/bin': { link: 'usr/bin' },
  '/usr/bin/sh': { file: 'shell' },
  '/usr/bin/app': { file: 'program' },
  '/usr/bin/python3': { link: 'python3.11' },
  '/usr/bin/python3.11': { file: 'python' },
  '/proc': { dir: true },
  '/dev/null': { device: true },
  '/run/nsvisor': { dir: true },
  '/tmp': { dir: true, mode: 0o1777 },
  '/etc/hosts': { file: '127.0.0.1 localhost\n', mode: 0o644 },
};

export interface FakeHostOptions {
  files?: Record<string, Entry>;
  cgroups?: CgroupFacts | null;
  leases?: Record<string, LeaseHolder>;
  devices?: string[];
  listeners?: (TcpListener & { owner?: ProcessFacts })[];
  pid?: number;
}

export class FakeHost implements HostFacts {
  readonly pid: number;
  readonly uid = 0;
  readonly gid = 0;
  private readonly files: Record<string, Entry>;

  constructor(private readonly opts: FakeHostOptions = {}) {
    this.files = { ...BASE_FILES, ...opts.files };
    this.pid = opts.pid ?? 4000;
  }

  subordinateBase(): number {
    return 100000;
  }

  cgroups(): CgroupFacts | null {
    return this.opts.cgroups === undefined ? HYBRID : this.opts.cgroups;
  }

  /** What is at `p` itself: an entry, a directory implied by an entry below it, or nothing. */
  private entry(p: string): Entry | null {
    if (p === '/') return { dir: true };
    if (this.files[p]) return this.files[p];
    return Object.keys(this.files).some((f) => f.startsWith(`${p}/`)) ? { dir: true } : null;
  }

  /** `p` with every symlink above it resolved (and the last one too when `followLast`), or null past a missing or non-directory part. */
  private resolve(p: string, followLast: boolean, depth = 0): string | null {
    if (depth > 40) return null;
    let current = '/';
    const parts = p.split('/').filter(Boolean);
    for (let i = 0; i < parts.length; i++) {
      const next = path.posix.join(current, parts[i]);
      const e = this.entry(next);
      if (e === null) return i === parts.length - 1 ? next : null;
      const last = i === parts.length - 1;
      if ('link' in e && (!last || followLast)) {
        const target = path.posix.resolve(current, e.link);
        const resolved = this.resolve(target, true, depth + 1);
        if (resolved === null) return null;
        current = resolved;
        continue;
      }
      if (!last && !('dir' in e)) return null;
      current = next;
    }
    return current;
  }

  private facts(p: string | null): FileFacts | null {
    const e = p === null ? null : this.entry(p);
    if (e === null) return null;
    if ('link' in e) return { kind: 'symlink', mode: 0o777 };
    if ('dir' in e) return { kind: 'dir', mode: e.mode ?? 0o755 };
    if ('device' in e) return { kind: 'other', mode: 0o666 };
    return { kind: 'file', mode: e.mode ?? 0o755 };
  }

  stat(p: string): FileFacts | null {
    return this.facts(this.resolve(p, true));
  }

  lstat(p: string): FileFacts | null {
    return this.facts(this.resolve(p, false));
  }

  readlink(p: string): string | null {
    const at = this.resolve(p, false);
    const e = at === null ? null : this.entry(at);
    return e && 'link' in e ? e.link : null;
  }

  readHead(p: string, bytes: number): Buffer | null {
    const at = this.resolve(p, true);
    const e = at === null ? null : this.entry(at);
    return e && 'file' in e ? Buffer.from(e.file).subarray(0, bytes) : null;
  }

  readText(p: string): string {
    const at = this.resolve(p, true);
    const e = at === null ? null : this.entry(at);
    if (e && 'file' in e) return Buffer.from(e.file).toString('utf8');
    const code = e && 'dir' in e ? 'EISDIR' : 'ENOENT';
    throw Object.assign(new Error(`${code}: ${p}`), { code });
  }

  leaseHolder(network: string, address: string): LeaseHolder | null {
    return this.opts.leases?.[`${network} ${address}`] ?? null;
  }

  deviceExists(name: string): boolean {
    return (this.opts.devices ?? ['lo', 'eth0']).includes(name);
  }

  tcpListeners(): TcpListener[] {
    return (this.opts.listeners ?? []).map(({ owner: _, ...l }) => l);
  }

  socketOwner(inode: number): ProcessFacts | null {
    return this.opts.listeners?.find((l) => l.inode === inode)?.owner ?? null;
  }
}

/** A minimal little-endian ELF header with one program header: PT_INTERP naming `loader`, or PT_LOAD only (static) when null. */
export function elfHead(loader: string | null, wide = true): Buffer {
  const ehsize = wide ? 64 : 52;
  const phentsize = wide ? 56 : 32;
  const interpAt = ehsize + phentsize;
  const buf = Buffer.alloc(interpAt + 64);
  buf.writeUInt32BE(0x7f454c46, 0);
  buf[4] = wide ? 2 : 1;
  buf[5] = 1;
  const text = Buffer.from(`${loader ?? ''}\0`);
  if (wide) {
    buf.writeBigUInt64LE(BigInt(ehsize), 0x20);
    buf.writeUInt16LE(phentsize, 0x36);
    buf.writeUInt16LE(1, 0x38);
    buf.writeUInt32LE(loader === null ? 1 : 3, ehsize);
    buf.writeBigUInt64LE(BigInt(interpAt), ehsize + 0x08);
    buf.writeBigUInt64LE(BigInt(text.length), ehsize + 0x20);
  } else {
    buf.writeUInt32LE(ehsize, 0x1c);
    buf.writeUInt16LE(phentsize, 0x2a);
    buf.writeUInt16LE(1, 0x2c);
    buf.writeUInt32LE(loader === null ? 1 : 3, ehsize);
    buf.writeUInt32LE(interpAt, ehsize + 0x04);
    buf.writeUInt32LE(text.length, ehsize + 0x10);
  }
  text.copy(buf, interpAt);
  return buf;
}
