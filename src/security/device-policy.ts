// The device allow-list of a service from its protections, with the numbers of the host devices it is given read from the host.
import * as fs from 'fs';
import * as path from 'path';

import { DeviceNode, DeviceRule, deviceRules, splitDev } from './device-rules';
import type { Protections } from './protections';

/** The device nodes at `p`: the node itself, or every node below a directory (/dev/dri, /dev/snd). */
function nodesAt(p: string): DeviceNode[] {
  const st = fs.statSync(p);
  if (st.isDirectory()) return fs.readdirSync(p).flatMap((n) => nodesAt(path.join(p, n)));
  if (!st.isCharacterDevice() && !st.isBlockDevice()) return [];
  return [{ path: p, type: st.isCharacterDevice() ? 'c' : 'b', ...splitDev(st.rdev) }];
}

/** What the service may open: null (anything) when it is privileged, else the defaults and its devices. */
export function devicePolicy(guard: Protections): DeviceRule[] | null {
  return guard.hardened ? deviceRules(guard.devices.flatMap(nodesAt)) : null;
}
