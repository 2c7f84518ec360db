// Zero-downtime restart (SPEC 4.6): a new instance beside the serving one on the same sockets; the old one stops only once the new one is ready.
import { LaunchFailure } from '../launch/failure';
import type { InstanceHandle } from './runtime';
import type { Slot } from './slot';

/** A zero-downtime restart whose new instance did not get ready; the old instance keeps serving. */
export class RestartError extends Error {}

const seconds = (since: number) => (performance.now() - since) / 1000;

/**
 * Replaces the service's current instance (with one of `settings`, the service's own by default; `automatic` when
 * no one asked for it: a health check's doing). Rejects with a RestartError (the old instance still serving, unless it
 * died meanwhile) when the new one does not start or get ready, or when a stop or the old one's death interrupts.
 */
export async function replaceInstance(service: Slot, settings = service.settings, automatic = false): Promise<void> {
  const old = service.current!;
  const t0 = performance.now();
  let next: InstanceHandle;
  try {
    next = await service.spawnInstance(automatic, settings);
  } catch (e) {
    const f = LaunchFailure.from(e);
    service.recordSpawnFailure(f);
    throw new RestartError(`${service.name}: the new instance did not start: ${f.message}; pid ${old.mainPid ?? old.pid} keeps serving`);
  }
  // A stop, or the old instance's death (its usual retry follows), takes over from the restart.
  const interrupted = () => service.current !== old || service.state !== 'running';
  service.candidate = next;
  service.emit('spawned', service.name, seconds(t0));
  let notReady: Error | null = null;
  try {
    await next.waitReady();
  } catch (e) {
    notReady = e as Error;
  }
  if (notReady || interrupted()) {
    service.candidate = null;
    await next.stop(); // it may have accepted connections on the shared sockets already: let it finish them
    const why = interrupted() ? 'was interrupted' : `was not ready: ${notReady!.message}`;
    service.failure = `restart: the new instance ${why}`;
    const serving = service.current === old ? `; pid ${old.mainPid ?? old.pid} keeps serving` : '';
    throw new RestartError(`${service.name}: the new instance ${why}${serving}`);
  }
  service.candidate = null;
  service.current = next;
  // A supervisor killed from now on leaves the new one adoptable (as NAME.rN), with the counters as they are.
  next.keep?.(service.counters());
  service.startedAt = next.startedAt;
  service.failure = null;
  service.emit('ready', service.name, seconds(t0));
  service.watch(next);
  const s0 = performance.now();
  const killed = await old.stop();
  service.emit('stopped', service.name, seconds(s0), killed);
}
