// net.ipv4.ip_forward of our network namespace: switched on for NAT, switched back at the end only if nsvisor was the one to switch it.
import { promises as fsp } from 'fs';
import * as path from 'path';

import { netnsKey, netStateRoot } from './leases';

/** Per network namespace, as is every file under /proc/sys/net. */
const SYSCTL = '/proc/sys/net/ipv4/ip_forward';

export class Forwarding {
  readonly sysctl = SYSCTL;
  /** Holds the value found before nsvisor changed it; present exactly while that change is in force. */
  readonly memo: string;

  constructor(root = netStateRoot()) {
    this.memo = path.join(root, `${netnsKey()}-ip_forward`);
  }

  /** Turns forwarding on; if it was off, remembers that (a memo left by a killed supervisor keeps the older value). */
  async enable(): Promise<void> {
    const now = (await fsp.readFile(SYSCTL, 'utf8')).trim();
    if (now === '1') return;
    await fsp.mkdir(path.dirname(this.memo), { recursive: true, mode: 0o700 });
    await fsp.writeFile(this.memo, `${now}\n`, { flag: 'wx' }).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
    await fsp.writeFile(SYSCTL, '1\n');
  }

  /** Puts back the value nsvisor found, if nsvisor changed it; nothing otherwise. */
  async restore(): Promise<void> {
    let before: string;
    try {
      before = (await fsp.readFile(this.memo, 'utf8')).trim();
    } catch {
      return; // not ours to change
    }
    await fsp.writeFile(SYSCTL, `${before}\n`);
    await fsp.rm(this.memo, { force: true });
  }
}
