// Adoption under a configuration that differs: the reload rules applied to the instances taken (in place, replaced, or stopped), each said.
import type { ServiceConfig } from '../config/schema';
import type { KeeperState } from '../service/keeper-files';
import type { Slot } from '../service/slot';
import type { Supervisor } from '../supervisor';
import type { AdoptionChange } from './adoption';

type Planned<K extends AdoptionChange['kind']> = { service: string; slot: Slot; change: Extract<AdoptionChange, { kind: K }> };

export class AdoptedChanges {
  private readonly updates: Planned<'update'>[] = [];
  private readonly replacements = new Map<string, Planned<'replace'>[]>();
  private readonly stops: Planned<'stop'>[] = [];
  /** Services added only to take the instances they left (gone from this configuration): removed once taken. */
  private readonly gone = new Set<string>();
  /** Services given more slots for the time of the adoption, by the number of instances this configuration has. */
  private readonly shrinkTo = new Map<string, number>();

  constructor(private readonly sup: Supervisor) {}

  /**
   * Before anything is taken: the slots the instances to stop go into. A service gone is added with the definition
   * its instances run, and one whose count was lowered gets its slots back for now (neither is started).
   */
  async makeRoom(stops: KeeperState[]): Promise<void> {
    const grow = new Map<string, number>();
    for (const st of stops) {
      const next = this.sup.settings.services[st.service];
      if (!next && st.settings && !this.sup.services.has(st.service)) {
        this.sup.add(st.service, st.settings);
        this.gone.add(st.service);
      } else if (next) {
        grow.set(st.service, Math.max(grow.get(st.service) ?? next.instances, st.slot + 1));
      }
    }
    for (const [name, n] of grow) {
      this.shrinkTo.set(name, this.sup.service(name).settings.instances);
      await this.sup.service(name).scale(n);
    }
  }

  /** An instance was taken into `slot` with the definition it runs: what the rules do of it comes after. */
  taken(service: string, slot: Slot, change: AdoptionChange): void {
    if (change.kind === 'update') this.updates.push({ service, slot, change });
    else if (change.kind === 'stop') this.stops.push({ service, slot, change });
    else if (change.kind === 'replace') this.replacements.set(service, [...(this.replacements.get(service) ?? []), { service, slot, change }]);
  }

  /**
   * Once every instance is taken, before the services start: the stops first, as a reload's removals (a service
   * gone is removed, a count goes back to this configuration's: its highest slots stop), then the in-place updates
   * (new limits). A slot whose update fails keeps its instance as it was; its next start takes the new definition.
   */
  async settle(): Promise<void> {
    const stopping = [...[...this.gone].map((name) => [name, this.sup.remove(name)] as const), ...[...this.shrinkTo].map(([name, n]) => [name, this.sup.service(name).scale(n)] as const)];
    const failed = new Map<string, string>();
    await Promise.all(stopping.map(([name, p]) => p.catch((e: Error) => void failed.set(name, e.message))));
    for (const { service, slot, change } of this.stops) this.say(service, slot, change.action, failed.get(service) ?? null);
    await Promise.all(this.updates.map(async ({ service, slot, change }) => {
      const next = this.definition(service);
      try {
        await slot.reconfigure(next);
        this.say(service, slot, change.action, null);
      } catch (e) {
        slot.settings = next;
        this.say(service, slot, change.action, `${(e as Error).message}; it runs on as it was, and its next start takes the new definition`);
      }
    }));
  }

  /**
   * The replacements of a service's adopted instances by ones of its new definition, one at a time (start() runs them
   * once its dependencies run). A slot whose replacement fails keeps its instance; its next start takes the new definition.
   */
  async replace(name: string): Promise<void> {
    const pending = this.replacements.get(name) ?? [];
    this.replacements.delete(name);
    for (const { slot, change } of pending) {
      const next = this.definition(name);
      try {
        await slot.redefine(next, { zeroDowntime: change.mode === 'zero-downtime', start: true });
        if (slot.state !== 'running') throw new Error(`${slot.name} is ${slot.state}${slot.failure ? `: ${slot.failure}` : ''}`);
        this.say(name, slot, change.action, null);
      } catch (e) {
        slot.settings = next;
        this.say(name, slot, change.action, (e as Error).message);
      }
    }
  }

  private definition(service: string): ServiceConfig {
    return this.sup.service(service).settings;
  }

  private say(service: string, slot: Slot, action: string, error: string | null): void {
    this.sup.emit('adoptedChange', service, slot.name, action, error);
  }
}
