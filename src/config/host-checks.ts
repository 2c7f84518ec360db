// `check` knows the host: every problem a valid configuration would meet on this machine, found through HostFacts. Pure.
import { commandProblems } from './host-checks-command';
import type { CgroupFacts, HostFacts, HostProblem, TcpListener } from './host-checks-facts';
import { limitProblems } from './host-checks-limits';
import { metricsProblems, networkProblems } from './host-checks-network';
import { mountTypeProblems, planService } from './host-checks-plan';
import { seccompProblems } from './host-checks-seccomp';
import { listenPathProblems, notifyProblems } from './host-checks-sockets';
import { userProblems } from './host-checks-users';
import { viewOf } from './host-checks-view';
import type { Config, ServiceConfig } from './schema';

export type { CgroupFacts, FileFacts, HostFacts, HostProblem, LeaseHolder, ProcessFacts, TcpListener } from './host-checks-facts';

/** A problem as `check` prints it: "services.web.command[0]: ...". */
export const problemLine = (p: HostProblem) => `${p.path}: ${p.message}`;

/** What every service's checks share: the configuration, the host, its cgroup facts, its listeners (read when first asked). */
interface Shared {
  config: Config;
  host: HostFacts;
  cgroups: CgroupFacts | null;
  listeners: () => TcpListener[];
}

function serviceProblems(name: string, svc: ServiceConfig, { config, host, cgroups, listeners }: Shared): HostProblem[] {
  const problems = cgroups ? limitProblems(name, svc, cgroups, config.supervisor.cgroupRoot) : [];
  const { plan, kept, problems: planned } = planService(name, svc, host);
  problems.push(...planned);
  if (plan) {
    const view = viewOf(svc.rootfs, kept, plan.mountTargets);
    problems.push(...mountTypeProblems(name, svc, kept, host), ...commandProblems(name, svc, plan, view, host));
    problems.push(...userProblems(name, svc, plan.idMaps));
    // The planner may refuse a mount over the notify socket itself: then that is the one problem of that mount.
    problems.push(...notifyProblems(name, svc, config, view).filter((n) => !planned.some((p) => p.path === n.path)));
    problems.push(...listenPathProblems(name, svc, view));
  }
  problems.push(...seccompProblems(name, svc, host), ...networkProblems(name, svc, host, listeners));
  return problems;
}

/**
 * What this host cannot do of a valid configuration, service by service in the file's order, then the supervisor's.
 * `permanent` problems mean the service can never start here as configured.
 */
export function hostProblems(config: Config, host: HostFacts): HostProblem[] {
  let listening: TcpListener[] | null = null;
  const listeners = () => (listening ??= host.tcpListeners());
  const shared: Shared = { config, host, cgroups: host.cgroups(config.supervisor.cgroupRoot), listeners };
  const problems: HostProblem[] = [];
  if (shared.cgroups === null) {
    problems.push({
      service: null,
      path: 'supervisor.cgroupRoot',
      message: 'this host has no cgroup file system mounted (/proc/self/mountinfo lists none); mount cgroup2 on /sys/fs/cgroup',
      permanent: true,
    });
  }
  for (const [name, svc] of Object.entries(config.services)) problems.push(...serviceProblems(name, svc, shared));
  problems.push(...metricsProblems(config, host, listeners));
  return problems;
}
