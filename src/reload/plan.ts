// `nsvisor reload`'s plan (SPEC 4.9): the running configuration against the new one, service by service, in the order to apply it. Pure.
import { dependencyOrder } from '../config/order';
import type { Config, ServiceConfig } from '../config/schema';
import { changedKeys, sameValue } from './diff';

/** Keys a running service takes in place: its instances go on (new limits written to their cgroups). */
const IN_PLACE = ['resources', 'restart', 'stop', 'ready.timeout', 'health', 'dependsOn', 'instances'];

/** Supervisor keys that a reload cannot change: the plan refuses them, and nothing is applied. */
const FIXED_SUPERVISOR_KEYS = ['control', 'cgroupRoot', 'logDir'];

export type ServiceChange =
  | { service: string; kind: 'unchanged' }
  | { service: string; kind: 'update'; keys: string[] }
  | { service: string; kind: 'replace'; keys: string[]; mode: 'zero-downtime' | 'stop-start' }
  | { service: string; kind: 'add' }
  | { service: string; kind: 'remove' };

export type NetworkChange = { network: string; kind: 'add' | 'remove' } | { network: string; kind: 'update'; keys: string[] };

export interface ReloadPlan {
  /** Every service of either configuration, in the order the changes apply: removals first (dependents before what they depend on), then the rest, dependencies first. */
  services: ServiceChange[];
  networks: NetworkChange[];
  /** Supervisor keys changed in place (metrics rebinds, shutdownTimeout). */
  supervisor: string[];
  /** Why the plan cannot be applied at all (a key a reload cannot change); empty when it can. */
  refused: string[];
}

/** Whether `key` (a dotted path) lies under one of `prefixes`. */
const under = (key: string, prefixes: string[]) => prefixes.some((p) => key === p || key.startsWith(`${p}.`));

/** A replacement can keep serving when the sockets stay and nothing of the service can exist only once. */
function replaceMode(before: ServiceConfig, after: ServiceConfig): 'zero-downtime' | 'stop-start' {
  const sameSockets = before.listen.length > 0 && changedKeys(before.listen, after.listen).length === 0;
  const single = (s: ServiceConfig) => !!s.network?.address || !!s.network?.device;
  return sameSockets && !single(before) && !single(after) ? 'zero-downtime' : 'stop-start';
}

function serviceChange(name: string, before: ServiceConfig, after: ServiceConfig, networkKeys: string[], same: boolean): ServiceChange {
  if (networkKeys.length === 0 && same) return { service: name, kind: 'unchanged' };
  const keys = [...changedKeys(before, after), ...networkKeys];
  if (keys.length === 0) return { service: name, kind: 'unchanged' };
  if (keys.every((k) => under(k, IN_PLACE))) return { service: name, kind: 'update', keys };
  return { service: name, kind: 'replace', keys, mode: replaceMode(before, after) };
}

/** The rule for one service alone: its running definition against the new one, on networks that stay as they are. */
export function planServiceChange(name: string, before: ServiceConfig, after: ServiceConfig): ServiceChange {
  return serviceChange(name, before, after, [], sameValue(before, after));
}

/** Names in reverse dependency order of `config`: dependents first. */
const reverseOrder = (config: Pick<Config, 'services'>) => dependencyOrder(config).flat().reverse();

/**
 * The services whose definitions are the same in both, found a slice at a time with the event loop free between
 * slices (a thousand services take the comparison tens of milliseconds); planReload takes the answer.
 */
export async function sameServices(running: Config, next: Config, slice = 100): Promise<Set<string>> {
  const same = new Set<string>();
  const names = Object.keys(next.services).filter((n) => n in running.services);
  for (let i = 0; i < names.length; i += slice) {
    for (const n of names.slice(i, i + slice)) if (sameValue(running.services[n], next.services[n])) same.add(n);
    await new Promise((r) => setImmediate(r));
  }
  return same;
}

/** `same`: the services known to be the same in both (sameServices); without it each is compared here. */
export function planReload(running: Config, next: Config, same?: Set<string>): ReloadPlan {
  const refused = FIXED_SUPERVISOR_KEYS.flatMap((k) =>
    changedKeys(running.supervisor[k as keyof Config['supervisor']], next.supervisor[k as keyof Config['supervisor']]).length
      ? [`supervisor.${k}: cannot change while the supervisor runs (restart nsvisor run to change it)`]
      : [],
  );
  const supervisor = changedKeys(running.supervisor, next.supervisor).filter((k) => !under(k, FIXED_SUPERVISOR_KEYS));

  const networks: NetworkChange[] = [];
  for (const name of new Set([...Object.keys(running.networks), ...Object.keys(next.networks)])) {
    const [a, b] = [running.networks[name], next.networks[name]];
    if (!a) networks.push({ network: name, kind: 'add' });
    else if (!b) networks.push({ network: name, kind: 'remove' });
    else {
      const keys = changedKeys(a, b);
      if (keys.length) networks.push({ network: name, kind: 'update', keys });
    }
  }
  // A service on a network whose subnet changes gets a new address, so new instances.
  const movedNetworks = new Set(networks.filter((n) => n.kind === 'update' && n.keys.includes('subnet')).map((n) => n.network));

  const removed = reverseOrder(running).filter((n) => !(n in next.services)).map((service): ServiceChange => ({ service, kind: 'remove' }));
  const rest = dependencyOrder(next).flat().map((name): ServiceChange => {
    const before = running.services[name];
    if (!before) return { service: name, kind: 'add' };
    const attach = next.services[name].network?.attach;
    const moved = attach && movedNetworks.has(attach) ? [`networks.${attach}.subnet`] : [];
    return serviceChange(name, before, next.services[name], moved, same ? same.has(name) : sameValue(before, next.services[name]));
  });
  return { services: [...removed, ...rest], networks, supervisor, refused };
}

/** Whether the plan changes anything at all. */
export function planChanges(plan: ReloadPlan): boolean {
  return plan.services.some((s) => s.kind !== 'unchanged') || plan.networks.length > 0 || plan.supervisor.length > 0;
}
