// Host checks of `user` in a user namespace: the uid and gid must be inside the mapped ranges, or setuid/setgid fail with EINVAL.
import type { IdMaps } from '../spawn-plan/plan';
import type { HostProblem } from './host-checks-facts';
import type { ServiceConfig } from './schema';

interface Range {
  inside: number;
  outside: number;
  count: number;
}

/** The kernel's "inside outside count" lines. */
function ranges(kernelMap: string): Range[] {
  return kernelMap.trim().split('\n').map((line) => {
    const [inside, outside, count] = line.split(' ').map(Number);
    return { inside, outside, count };
  });
}

/** "0:100000:65536, inside ids 0-65535" for messages. */
function described(map: Range[]): string {
  const text = map.map((r) => `${r.inside}:${r.outside}:${r.count}`).join(',');
  const inside = map.map((r) => (r.count === 1 ? `${r.inside}` : `${r.inside}-${r.inside + r.count - 1}`)).join(', ');
  return `${text}, inside id${map.length === 1 && map[0].count === 1 ? '' : 's'} ${inside}`;
}

/** Which map the service has, in the words of its configuration. */
function mapName(svc: ServiceConfig, kind: 'uid' | 'gid', map: Range[]): string {
  if (svc.userns && svc.userns !== 'auto') return `userns.${kind}Map (${described(map)})`;
  if (svc.userns === 'auto') return `userns "auto" (${described(map)})`;
  return `the user namespace of isolate [user] without userns (${described(map)})`;
}

/** A problem for the uid and for the gid of `user` that the service's user namespace does not map. */
export function userProblems(name: string, svc: ServiceConfig, idMaps: IdMaps | null): HostProblem[] {
  if (!svc.user || idMaps === null) return [];
  const [uid, gid = uid] = svc.user.split(':').map(Number);
  const problems: HostProblem[] = [];
  const check = (kind: 'uid' | 'gid', id: number, kernelMap: string) => {
    const map = ranges(kernelMap);
    if (map.some((r) => id >= r.inside && id < r.inside + r.count)) return;
    const call = kind === 'uid' ? 'setuid' : 'setgid';
    const fix = svc.userns ? `add a range holding ${id} to the map, or choose a mapped ${kind}` : `give userns a map holding ${id} (or "auto")`;
    problems.push({
      service: name,
      path: `services.${name}.user`,
      message: `${kind} ${id} is not mapped by ${mapName(svc, kind, map)}, so ${call}(${id}) would fail with EINVAL; ${fix}`,
      permanent: true,
    });
  };
  check('uid', uid, idMaps.uidMap);
  check('gid', gid, idMaps.gidMap);
  return problems;
}
