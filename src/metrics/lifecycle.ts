// Lifecycle metrics fed by the supervisor's events: info, state, starts, restarts, exits, durations, kills.
import type { ExitRecord } from '../launch/exit-reason';
import type { AdoptedInstance } from '../service/events';
import type { ServiceState } from '../service/states';
import { EXIT_REASONS, LifecycleMetrics, STATES } from './definitions';
import { exitCodeValue, isolationLabel } from './labels';
import type { MeteredService } from './subject';

/** Creates the series of a service (counters at 0) so they exist before anything happens; histograms appear at their first observation. */
export function addService(m: LifecycleMetrics, s: MeteredService): void {
  m.info.set({ name: s.name, restart_policy: s.settings.restart.policy, isolation: isolationLabel(s.settings.isolate) }, 1);
  setState(m, s.name, s.state);
  countInstances(m, s);
  for (const c of [m.starts, m.restarts, m.shutdownKills, m.reaped]) c.inc({ name: s.name }, 0);
  for (const reason of EXIT_REASONS) m.exits.inc({ name: s.name, reason }, 0);
  if (s.settings.health) for (const result of ['ok', 'failed']) m.healthChecks.inc({ name: s.name, result }, 0);
}

/** Instances running, and asked for. */
export function countInstances(m: LifecycleMetrics, s: MeteredService): void {
  m.instances.set({ name: s.name }, s.running);
  m.desiredInstances.set({ name: s.name }, s.settings.instances ?? 1);
}

export function setState(m: LifecycleMetrics, name: string, state: ServiceState): void {
  for (const st of STATES) m.state.set({ name, state: st }, st === state ? 1 : 0);
}

/** An instance is being started: a start, and a restart when the restart policy asked for it (not a start or restart asked for). */
export function onAttempt(m: LifecycleMetrics, name: string, automatic: boolean): void {
  m.starts.inc({ name });
  if (automatic) m.restarts.inc({ name });
}

/** An instance taken over from a supervisor that died: its slot's counters go on from where that one left them. */
export function onAdopted(m: LifecycleMetrics, name: string, t: Pick<AdoptedInstance, 'starts' | 'restarts' | 'reaped' | 'exits'>): void {
  m.starts.inc({ name }, t.starts);
  m.restarts.inc({ name }, t.restarts);
  m.reaped.inc({ name }, t.reaped);
  for (const reason of EXIT_REASONS) m.exits.inc({ name, reason }, t.exits[reason]);
}

export function onExit(m: LifecycleMetrics, name: string, exit: ExitRecord): void {
  m.exits.inc({ name, reason: exit.reason });
  const code = exitCodeValue(exit);
  if (code !== null) m.lastExitCode.set({ name }, code);
  m.lastExitTime.set({ name }, exit.at.getTime() / 1000);
}

export function onSpawned(m: LifecycleMetrics, name: string, seconds: number, now = Date.now()): void {
  m.spawnDuration.observe({ name }, seconds);
  m.startTime.set({ name }, now / 1000);
}

export function onStopped(m: LifecycleMetrics, name: string, seconds: number, killed: boolean): void {
  m.shutdownDuration.observe({ name }, seconds);
  if (killed) m.shutdownKills.inc({ name });
}
