// The stats files of each running instance held open between collections, so that each is one pread instead of an open, reads and a close.
import * as fs from 'fs';

import type { StatsTarget } from '../cgroup/driver';
import { collectionFiles } from '../cgroup/stats';

/** Open fds by file name; null for a file the cgroup does not have. */
export type Fds = Record<string, number | null>;

/** Half the process's open-file limit: the rest stays for sockets, logs and pipes. Read once. */
function defaultBudget(): number {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    return m ? Math.floor(Number(m[1]) / 2) : 512;
  } catch {
    return 512;
  }
}

/** Fds held (or being opened) by every HeldFiles of the process, against one budget. */
let heldTotal = 0;

/**
 * The worker opens the files (target.hold) and hands their fds over with its figures; the next collections
 * pass them back (target.fds). Nothing is opened or closed synchronously on the event loop.
 */
export class HeldFiles {
  /** The open files of each instance (its cgroup object); null while the worker opens them. */
  private readonly held = new Map<object, Fds | null>();
  /** Budget taken by each instance. */
  private readonly reserved = new Map<object, number>();
  /** While above 0 a collection may be reading: fds are closed only after it, never reused under it. */
  private readers = 0;
  private readonly closing: number[] = [];
  private closed = false;

  /** `budget`: the most fds all HeldFiles of the process hold together. */
  constructor(private readonly budget = defaultBudget()) {}

  /** The target to read `instance` by: with its held fds, or asking the worker to open and hand them over, or as it is (over budget). */
  target(instance: object, target: StatsTarget): StatsTarget {
    const fds = this.held.get(instance);
    if (fds) return { ...target, fds };
    if (fds === null || this.closed) return target; // being opened by another collection, or no more holding
    const n = collectionFiles(target.dirs, target.kind).length;
    if (heldTotal + n > this.budget) return target;
    heldTotal += n;
    this.reserved.set(instance, n);
    this.held.set(instance, null);
    return { ...target, hold: true };
  }

  /** What the worker opened for `instance` (undefined: it could not, EMFILE or such: read by path next time too). */
  adopt(instance: object, fds: Fds | undefined): void {
    if (this.held.get(instance) !== null) {
      if (fds) this.closeLater(fds); // the instance was let go meanwhile
      return;
    }
    if (fds) this.held.set(instance, fds);
    else this.release(instance);
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
    const fds = this.held.get(instance);
    this.held.delete(instance);
    heldTotal -= this.reserved.get(instance) ?? 0;
    this.reserved.delete(instance);
    if (fds) this.closeLater(fds);
  }

  private closeLater(fds: Fds): void {
    this.closing.push(...Object.values(fds).filter((fd): fd is number => fd !== null));
    this.flush();
  }

  private flush(): void {
    if (this.readers > 0) return;
    for (const fd of this.closing.splice(0)) fs.close(fd, () => undefined);
  }
}
