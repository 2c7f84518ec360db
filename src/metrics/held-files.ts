// The stats files of each running instance held open between collections, so that each is one pread instead of an open, reads and a close.
import * as fs from 'fs';

import type { StatsTarget } from '../cgroup/driver';
import { collectionFiles } from '../cgroup/stats';

type Fds = Record<string, number | null>;

/** Half the process's open-file limit: the rest stays for sockets, logs and pipes. Read once. */
function defaultBudget(): number {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    return m ? Math.floor(Number(m[1]) / 2) : 512;
  } catch {
    return 512;
  }
}

/** The fd of a file; null when it does not exist (a controller or PSI missing); undefined when it could not be opened otherwise (EMFILE). */
function openFd(path: string): Promise<number | null | undefined> {
  return new Promise((resolve) => fs.open(path, 'r', (err, fd) => resolve(!err ? fd : err.code === 'ENOENT' ? null : undefined)));
}

/** Fds held by every HeldFiles of the process, against one budget. */
let heldTotal = 0;

export class HeldFiles {
  /** The open files of each instance (its cgroup object), opened on libuv's threads, off the event loop. */
  private readonly held = new Map<object, Promise<Fds | null>>();
  /** While above 0 a collection may be reading: fds are closed only after it, never reused under it. */
  private readers = 0;
  private readonly closing: number[] = [];
  private closed = false;

  /** `budget`: the most fds all HeldFiles of the process hold together. */
  constructor(private readonly budget = defaultBudget()) {}

  /** The target with the files of `instance` held open (opened now the first time); as it is when over budget. */
  async target(instance: object, target: StatsTarget): Promise<StatsTarget> {
    let fds = this.held.get(instance);
    if (!fds && this.closed) return target;
    if (!fds) {
      const files = collectionFiles(target.dirs, target.kind);
      if (heldTotal + files.length > this.budget) return target;
      heldTotal += files.length;
      fds = Promise.all(files.map((f) => openFd(f.path))).then((opened) => {
        if (!opened.includes(undefined)) return Object.fromEntries(files.map((f, i) => [f.name, opened[i] as number | null]));
        for (const fd of opened) if (typeof fd === 'number') fs.close(fd, () => undefined);
        heldTotal -= files.length;
        return null; // out of fds (or odder): this instance is read by path
      });
      this.held.set(instance, fds);
    }
    const open = await fds;
    return open ? { ...target, fds: open } : target;
  }

  /** A collection starts reading held files. */
  begin(): void {
    this.readers++;
  }

  /** A collection is done; `live` are the instances that still run: the files of every other one are closed. */
  end(live: Set<object>): void {
    this.readers--;
    for (const instance of [...this.held.keys()]) if (!live.has(instance)) this.release(instance);
    this.flush();
  }

  /** Closes every held file (the metrics are closed). */
  closeAll(): void {
    this.closed = true;
    for (const instance of [...this.held.keys()]) this.release(instance);
    this.flush();
  }

  private release(instance: object): void {
    const fds = this.held.get(instance)!;
    this.held.delete(instance);
    void fds.then((f) => {
      heldTotal -= f ? Object.keys(f).length : 0;
      this.closing.push(...Object.values(f ?? {}).filter((fd): fd is number => fd !== null));
      this.flush();
    });
  }

  private flush(): void {
    if (this.readers > 0) return;
    for (const fd of this.closing.splice(0)) fs.close(fd, () => undefined);
  }
}
