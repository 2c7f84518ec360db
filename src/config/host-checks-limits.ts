// Host checks of `resources`: each limit this host's cgroup layout cannot have where the services' cgroups go.
import type { CgroupFacts, HostProblem } from './host-checks-facts';
import type { ServiceConfig } from './schema';

type ResourceKey = keyof ServiceConfig['resources'];

/** The controller each limit is written with (src/cgroup/limits.ts). */
const CONTROLLER_OF: Record<ResourceKey, string> = { memory: 'memory', memoryHigh: 'memory', cpus: 'cpu', cpuWeight: 'cpu', pids: 'pids' };

function missingController(cg: CgroupFacts, controller: string, key: string, root: string): string {
  if (cg.kind !== 'v2') {
    return (
      `this host has no cgroup v1 ${controller} controller mounted (${cg.listedIn}), so ${key} cannot be set; ` +
      `mount one (mount -t cgroup -o ${controller} cgroup /sys/fs/cgroup/${controller}) or remove ${key}`
    );
  }
  if (cg.missingParent !== null) {
    return (
      `the ${controller} controller is not offered to the services' cgroups under ${root}: ${cg.missingParent} does not exist, and the ` +
      `parents nsvisor makes enable no controllers; create it and run "echo +${controller} > ${cg.enableIn}", or choose a cgroupRoot ` +
      'whose parent exists'
    );
  }
  const listed = cg.controllers?.length ? `lists ${cg.controllers.join(' ')}` : 'lists none';
  return (
    `the ${controller} controller is not offered to the services' cgroups under ${root} (${cg.listedIn} ${listed}); ` +
    `offer it with "echo +${controller} > ${cg.enableIn}" (under systemd: Delegate=yes), or remove ${key}`
  );
}

/** A problem for every key of `resources` this layout cannot apply; `root` is supervisor.cgroupRoot. */
export function limitProblems(name: string, svc: ServiceConfig, cg: CgroupFacts, root: string): HostProblem[] {
  const problems: HostProblem[] = [];
  for (const key of Object.keys(CONTROLLER_OF) as ResourceKey[]) {
    if (svc.resources[key] === undefined) continue;
    const controller = CONTROLLER_OF[key];
    const problem = (message: string) => problems.push({ service: name, path: `services.${name}.resources.${key}`, message, permanent: true });
    if (cg.controllers !== null && !cg.controllers.includes(controller)) problem(missingController(cg, controller, key, root));
    else if (key === 'memoryHigh' && cg.kind !== 'v2') {
      problem("this host's memory controller is cgroup v1, which has no memory.high; remove memoryHigh (memory, the hard limit, works on v1)");
    }
  }
  return problems;
}
