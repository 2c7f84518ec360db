// Applies a reload plan to the running supervisor step by step; the first step that fails stops it, and what was and was not applied is said.
import type { HostPort } from '../config/addresses';
import type { Config } from '../config/schema';
import type { Supervisor } from '../supervisor';
import type { ReloadPlan, ServiceChange } from './plan';

/** One step of a reload, as the supervisor's output and `nsvisor reload` show it. */
export interface ReloadStep {
  /** "web", "network nsv0", "supervisor.metrics". */
  target: string;
  /** "replace without downtime (env.MODE)", "update (resources.memory)", "add", "remove". */
  action: string;
  ok: boolean;
  error?: string;
}

export interface ReloadOutcome {
  steps: ReloadStep[];
  /** The steps never tried because one before them failed. */
  notApplied: string[];
}

export interface ReloadHooks {
  /** `supervisor.metrics` changed: listen on the new address (null: off), then let the old one go. */
  rebindMetrics(next: HostPort | null): Promise<void>;
  onStep(step: ReloadStep): void;
}

interface PlannedStep {
  target: string;
  action: string;
  run: () => Promise<void>;
}

const keys = (k: string[]) => ` (${k.join(', ')})`;

/** What running a service means after a step: it got ready; a start that failed or backs off fails the step. */
function mustRun(sup: Supervisor, name: string): void {
  const s = sup.service(name);
  if (s.state !== 'running') throw new Error(`${name} is ${s.state}${s.failure ? `: ${s.failure}` : ''}`);
}

/** `stopped`: services a step before stopped on the way (a network's new subnet), to be started again by their replace. */
function serviceStep(sup: Supervisor, next: Config, c: ServiceChange, stopped: Set<string>): PlannedStep | null {
  const name = c.service;
  switch (c.kind) {
    case 'unchanged':
      return null;
    case 'remove':
      return { target: name, action: 'remove', run: () => sup.remove(name) };
    case 'add':
      return {
        target: name,
        action: 'add',
        run: async () => {
          const s = sup.add(name, next.services[name]);
          s.start().catch(() => undefined); // the outcome is read from settled()
          await s.settled();
          mustRun(sup, name);
        },
      };
    case 'update':
      return {
        target: name,
        action: `update in place${keys(c.keys)}`,
        run: async () => {
          await sup.service(name).reconfigure(next.services[name]);
          sup.redefined(name);
        },
      };
    case 'replace': {
      const zero = c.mode === 'zero-downtime';
      return {
        target: name,
        action: `replace ${zero ? 'without downtime' : 'by stop, then start'}${keys(c.keys)}`,
        run: async () => {
          const s = sup.service(name);
          const wasRunning = s.state !== 'stopped' || stopped.has(name);
          await s.redefine(next.services[name], { zeroDowntime: zero, start: wasRunning });
          sup.redefined(name);
          if (wasRunning) mustRun(sup, name);
        },
      };
    }
  }
}

/** The steps of a plan, in order: removals, networks to add, service changes (dependencies first), networks to drop, supervisor keys. */
function stepsOf(sup: Supervisor, plan: ReloadPlan, next: Config, hooks: ReloadHooks): PlannedStep[] {
  const steps: PlannedStep[] = [];
  const stopped = new Set<string>();
  const services = plan.services.map((c) => serviceStep(sup, next, c, stopped)).filter((s): s is PlannedStep => s !== null);
  const removals = services.filter((s) => s.action === 'remove');
  steps.push(...removals);
  for (const n of plan.networks) {
    if (n.kind === 'add') steps.push({ target: `network ${n.network}`, action: 'add', run: async () => sup.addNetwork(n.network, next.networks[n.network]) });
    if (n.kind === 'update' && n.keys.includes('subnet')) {
      // New addresses for everything on it: its services stop, the bridge is made anew, their replacements start.
      steps.push({
        target: `network ${n.network}`,
        action: `new subnet ${next.networks[n.network].subnet}`,
        run: async () => {
          const attached = [...sup.services.values()].filter((s) => s.settings.network?.attach === n.network && s.state !== 'stopped');
          for (const s of attached) stopped.add(s.name);
          await Promise.all(attached.map((s) => s.stop()));
          sup.removeNetwork(n.network);
          sup.addNetwork(n.network, next.networks[n.network]);
        },
      });
    } else if (n.kind === 'update') {
      steps.push({ target: `network ${n.network}`, action: `update${keys(n.keys)}`, run: async () => sup.addNetwork(n.network, next.networks[n.network]) });
    }
  }
  if (plan.networks.length) steps.push({ target: 'nat', action: 'update the masquerade', run: () => sup.masquerade.reconfigure(sup.natNetworks()) });
  steps.push(...services.filter((s) => s.action !== 'remove'));
  for (const n of plan.networks.filter((c) => c.kind === 'remove')) {
    steps.push({ target: `network ${n.network}`, action: 'remove', run: async () => sup.removeNetwork(n.network) });
  }
  if (plan.networks.some((c) => c.kind === 'remove')) steps.push({ target: 'nat', action: 'update the masquerade', run: () => sup.masquerade.reconfigure(sup.natNetworks()) });
  if (plan.supervisor.some((k) => k.startsWith('metrics'))) {
    steps.push({ target: 'supervisor.metrics', action: 'rebind', run: () => hooks.rebindMetrics(next.supervisor.metrics) });
  }
  steps.push({
    target: 'supervisor',
    action: 'take the new settings',
    run: async () => void (sup.settings = { ...sup.settings, supervisor: next.supervisor }),
  });
  return steps;
}

/** Applies `plan` (whose `refused` is empty) taking the supervisor to `next`; stops at the first step that fails. */
export async function applyReload(sup: Supervisor, plan: ReloadPlan, next: Config, hooks: ReloadHooks): Promise<ReloadOutcome> {
  const planned = stepsOf(sup, plan, next, hooks);
  const steps: ReloadStep[] = [];
  for (let i = 0; i < planned.length; i++) {
    const { target, action, run } = planned[i];
    try {
      await run();
      steps.push({ target, action, ok: true });
      hooks.onStep(steps[steps.length - 1]);
    } catch (e) {
      steps.push({ target, action, ok: false, error: (e as Error).message });
      hooks.onStep(steps[steps.length - 1]);
      return { steps, notApplied: planned.slice(i + 1).map((s) => `${s.target}: ${s.action}`) };
    }
  }
  return { steps, notApplied: [] };
}
