// The reload rules for an instance a supervisor that died left: the definition it runs (its state file's) against this configuration's. Pure.
import type { ServiceConfig } from '../config/schema';
import { definitionDigest, KeeperState } from '../service/keeper-files';
import { planServiceChange } from './plan';
import { changeText } from './show';

export type AdoptionChange =
  /** The same definition: taken as it is, untouched. */
  | { kind: 'adopt' }
  /** Taken, then given the keys a running instance takes (new limits written to its cgroup), as `reload` does. */
  | { kind: 'update'; keys: string[]; action: string }
  /** Taken, then replaced by an instance of the new definition (without downtime when the service can), as `reload` does. */
  | { kind: 'replace'; keys: string[]; mode: 'zero-downtime' | 'stop-start'; action: string }
  /** Taken, then stopped gracefully: its service, or its slot, is not in this configuration. */
  | { kind: 'stop'; action: string }
  /** Not taken (its cgroup goes with the leftovers, the slot starts anew): there is nothing to plan from. */
  | { kind: 'refuse'; why: string };

/** What becomes of the instance `st` names under `next`, its service's definition in this configuration (undefined: none). */
export function adoptionChange(st: Pick<KeeperState, 'service' | 'slot' | 'definition' | 'settings'>, next: ServiceConfig | undefined): AdoptionChange {
  const gone = !next ? `no service ${st.service}` : st.slot >= next.instances ? `instances: ${next.instances}` : null;
  if (!st.settings) {
    // A state file of an older nsvisor has the digest only: the same definition, or nothing known of what changed.
    if (gone) return { kind: 'refuse', why: `not in this configuration (${gone}), and its state file holds no definition to stop it by` };
    if (st.definition === definitionDigest(next!)) return { kind: 'adopt' };
    return { kind: 'refuse', why: 'its definition differs in this configuration, and its state file (of an older nsvisor) holds no definition to plan from: not adopted, started anew' };
  }
  if (gone) return { kind: 'stop', action: `not in this configuration (${gone}): stop` };
  // The number of instances is this configuration's already (its slots): no change of this instance.
  const c = planServiceChange(st.service, { ...st.settings, instances: next!.instances }, next!);
  if (c.kind === 'update') return { kind: 'update', keys: c.keys, action: `definition changed: ${changeText(c)}` };
  if (c.kind === 'replace') return { kind: 'replace', keys: c.keys, mode: c.mode, action: `definition changed: ${changeText(c)}` };
  return { kind: 'adopt' };
}
