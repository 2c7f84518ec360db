// Host checks through the spawn planner itself, so check and spawn agree on every mount rule: each SpecError is a problem.
import * as path from 'path';

import { hostContext } from '../process/host-context';
import { buildSpawnPlan, PathKind, SpawnPlan, SpecError } from '../spawn-plan/plan';
import type { FileFacts, HostFacts, HostProblem } from './host-checks-facts';
import type { ServiceConfig } from './schema';

export type Mount = ServiceConfig['mounts'][number];

/** A declared mount the planner accepted, with its index in the configuration. */
export interface KeptMount {
  mount: Mount;
  index: number;
}

export interface PlanOutcome {
  /** The plan of the service with the mounts the planner accepted; null when a setting other than a mount stops it. */
  plan: SpawnPlan | null;
  kept: KeptMount[];
  problems: HostProblem[];
}

function pathKind(facts: FileFacts | null): PathKind {
  if (facts === null) return null;
  return facts.kind === 'dir' || facts.kind === 'file' ? facts.kind : 'other';
}

/** What to do about a SpecError, by the kind of key it names (the planner says what is wrong). */
function fixFor(key: string): string {
  if (/^mounts\[\d+\]\.source$/.test(key)) return '; create it on the host or correct the path';
  if (/^mounts\[\d+\]\.target$/.test(key)) return '; create it on the host, or give the service a rootfs';
  if (key === 'rootfs') return "; point rootfs at a directory holding the service's root file system";
  return '';
}

/**
 * Runs the planner as the spawn path does (src/service/instance.ts), with a probe that asks `host`. A SpecError on
 * a mount becomes that mount's problem and the planner runs again without it, so every bad mount is reported at once.
 */
export function planService(name: string, svc: ServiceConfig, host: HostFacts): PlanOutcome {
  const ctx = hostContext({
    name,
    uid: host.uid,
    gid: host.gid,
    subordinateBase: () => host.subordinateBase(),
    newSession: true,
    probe: (p) => pathKind(host.stat(p)),
  });
  const kept: KeptMount[] = svc.mounts.map((mount, index) => ({ mount, index }));
  const problems: HostProblem[] = [];
  const problem = (path: string, message: string) => problems.push({ service: name, path: `services.${name}.${path}`, message, permanent: true });
  for (;;) {
    try {
      const plan = buildSpawnPlan({ ...svc, mounts: kept.map((k) => k.mount) }, ctx);
      return { plan, kept, problems };
    } catch (e) {
      if (!(e instanceof SpecError)) throw e;
      const what = e.message.slice(e.key.length + 2) + fixFor(e.key);
      const m = /^mounts\[(\d+)\](.*)$/.exec(e.key);
      if (!m) {
        problem(e.key, what);
        return { plan: null, kept, problems };
      }
      const [gone] = kept.splice(Number(m[1]), 1);
      problem(`mounts[${gone.index}]${m[2]}`, what);
    }
  }
}

/** The deepest existing ancestor of `target` (inside `rootfs`) when it is not a directory, as the rootfs shows it. */
function nonDirectoryAbove(rootfs: string, target: string, host: HostFacts): string | null {
  for (let dir = path.posix.dirname(target); dir !== '/'; dir = path.posix.dirname(dir)) {
    const facts = host.stat(`${rootfs}${dir}`);
    if (facts !== null) return facts.kind === 'dir' ? null : dir;
  }
  return null;
}

/** What the kernel refuses that the planner does not look at: a target of the wrong type, or one that cannot be made. */
export function mountTypeProblems(name: string, svc: ServiceConfig, kept: KeptMount[], host: HostFacts): HostProblem[] {
  const problems: HostProblem[] = [];
  for (const { mount, index } of kept) {
    const target = host.stat(`${svc.rootfs ?? ''}${mount.target}`);
    const at = `services.${name}.mounts[${index}].target`;
    const add = (message: string) => problems.push({ service: name, path: at, message, permanent: true });
    if (target === null) {
      // Made by nsvisor inside the rootfs, as directories down from the deepest one there.
      const blocker = svc.rootfs === undefined ? null : nonDirectoryAbove(svc.rootfs, mount.target, host);
      if (blocker) add(`${mount.target} cannot be created in the rootfs: ${blocker} is not a directory; choose another target`);
      continue;
    }
    if (mount.type !== 'bind') {
      if (target.kind !== 'dir') add(`${mount.target} is not a directory, and a ${mount.type} can only be mounted on one; choose a directory as target`);
      continue;
    }
    const source = host.stat(mount.source);
    if (source === null || (source.kind === 'dir') === (target.kind === 'dir')) continue;
    const kinds = (f: FileFacts) => (f.kind === 'dir' ? 'a directory' : 'not a directory');
    add(
      `${mount.target} is ${kinds(target)} but the source ${mount.source} is ${kinds(source)}: ` +
        'a bind mount needs both to be directories or both not; choose a target of the same type',
    );
  }
  return problems;
}
