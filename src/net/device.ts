// network.device: a host device lent to one instance's network namespace and moved back out before that namespace goes.
import * as fs from 'fs';

import { addon } from '../native';
import { moveBackOnPool, moveInOnPool } from './pool';

/**
 * When a network namespace dies the kernel deletes the virtual devices in it and moves the physical ones to the
 * init namespace, not to the supervisor's. So the namespace is held open (an fd of /proc/PID/ns/net) from before the
 * move until giveBack() has moved the device home: then the next instance finds it again, whatever kind it is.
 */
export class LentDevice {
  private constructor(readonly name: string, private nsFd: number | null) {}

  /** Moves host device `name` into pid's network namespace (which pid must not have left yet) and sets it up there. */
  static async lend(name: string, pid: number): Promise<LentDevice> {
    const nsFd = fs.openSync(`/proc/${pid}/ns/net`, 'r');
    try {
      await moveInOnPool(name, pid);
    } catch (e) {
      fs.closeSync(nsFd);
      throw e;
    }
    return new LentDevice(name, nsFd);
  }

  /**
   * The device a supervisor that died lent to pid's network namespace, for an instance adopted now: that namespace
   * held again, so giveBack() brings the device home at the instance's end. Throws when it is not there any more.
   */
  static adopt(name: string, pid: number): LentDevice {
    const nsFd = fs.openSync(`/proc/${pid}/ns/net`, 'r');
    try {
      if (addon.netLinkIndex(name, pid) === null) throw new Error(`network device ${name} is not in the network namespace of pid ${pid} any more`);
    } catch (e) {
      fs.closeSync(nsFd);
      throw e;
    }
    return new LentDevice(name, nsFd);
  }

  /** Lets the namespace go without moving the device (an adoption that did not happen): the kernel decides its fate. */
  forget(): void {
    if (this.nsFd !== null) fs.closeSync(this.nsFd);
    this.nsFd = null;
  }

  /**
   * Moves the device back into our namespace (down, without its address) and lets the instance's namespace go.
   * Never throws: a device the service renamed or deleted, or whose name is taken here now, is left to the kernel.
   */
  async giveBack(): Promise<Error | null> {
    const nsFd = this.nsFd;
    if (nsFd === null) return null;
    this.nsFd = null;
    try {
      await moveBackOnPool(this.name, nsFd);
      return null;
    } catch (e) {
      return e as Error;
    } finally {
      fs.closeSync(nsFd);
    }
  }
}
