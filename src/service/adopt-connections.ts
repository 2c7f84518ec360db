// The connections to the orphaned nsvisor-inits a successor adopts, all opened before any hand-over is read: the inits then hand over in parallel, not one round trip after the other.
import * as fs from 'fs';

import { addon } from '../native';
import { identityProblem, KeeperState, socketPathOf } from './keeper-files';

export class AdoptConnections {
  private readonly opened = new Map<string, number>();

  /**
   * Opens a connection to the instance of each state whose nsvisor-init is still the process it names (pid, start
   * time, cgroup). One that cannot be opened now is left to take(), which tries again and throws the reason.
   */
  constructor(private readonly dir: string, states: readonly (KeeperState | Error)[]) {
    for (const st of states) {
      if (st instanceof Error || identityProblem(st)) continue;
      try {
        this.opened.set(st.cgroup, addon.adoptOpen(socketPathOf(dir, st.cgroup)));
      } catch {
        /* take() says why */
      }
    }
  }

  /** The connection to the instance of this cgroup (opened earlier, else now): the caller owns it. */
  take(cgroup: string): number {
    const fd = this.opened.get(cgroup);
    this.opened.delete(cgroup);
    return fd ?? addon.adoptOpen(socketPathOf(this.dir, cgroup));
  }

  /** Closes the connections not taken (instances not adopted): their inits wait on, as with no successor. */
  closeRest(): void {
    for (const fd of this.opened.values()) fs.closeSync(fd);
    this.opened.clear();
  }
}
