// One reload at a time: read and validate the file as a whole, plan it against what runs, print the plan, apply it (or not, for --dry-run).
import type { HostPort } from '../config/addresses';
import { ConfigError } from '../config/issues';
import { loadConfigOffLoop } from '../config/load-off-loop';
import type { Config } from '../config/schema';
import type { EventLog } from '../events/event-log';
import type { Supervisor } from '../supervisor';
import { applyReload, ReloadStep } from './apply';
import { planChanges, planReload, ReloadPlan, sameServices } from './plan';
import { planLines } from './show';

export type ReloadResult =
  /** The file is invalid (or asks for a change no reload can make): nothing was changed. */
  | { status: 'invalid'; file: string; problems: string[] }
  /** --dry-run: what would change. */
  | { status: 'planned'; file: string; plan: ReloadPlan }
  | { status: 'applied' | 'failed'; file: string; plan: ReloadPlan; steps: ReloadStep[]; notApplied: string[] };

/** A reload asked for while another one runs. */
export class ReloadBusyError extends Error {}

export interface ReloaderHooks {
  rebindMetrics(next: HostPort | null): Promise<void>;
  /**
   * Problems of this host with the new configuration that make a service it changes or adds impossible (the checks
   * of `nsvisor check` that are permanent), one line each.
   */
  hostProblems(config: Config, touched: Set<string>): string[];
  /** Counts a reload by its outcome (nsvisor_reloads_total). */
  count(result: 'applied' | 'invalid' | 'failed'): void;
}

export class Reloader {
  private busy = false;

  /** `file`: the configuration the supervisor was started with, read again when a reload names none (null for the demo). */
  constructor(
    private readonly sup: Supervisor,
    private readonly file: string | null,
    private readonly events: EventLog,
    private readonly hooks: ReloaderHooks,
  ) {}

  async reload(file: string | null = this.file, dryRun = false): Promise<ReloadResult> {
    if (file === null) throw new ConfigError(['the supervisor runs the built-in demo: give the file to reload with -c FILE']);
    if (this.busy) throw new ReloadBusyError('another reload is being applied; try again once it is done');
    this.busy = true;
    try {
      return await this.run(file, dryRun);
    } finally {
      this.busy = false;
    }
  }

  private async run(file: string, dryRun: boolean): Promise<ReloadResult> {
    let next: Config;
    try {
      next = await loadConfigOffLoop(file);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      return this.invalid(file, e.problems, dryRun);
    }
    const running = this.sup.settings as Config;
    const plan = planReload(running, next, await sameServices(running, next));
    const touched = new Set(plan.services.filter((s) => s.kind !== 'unchanged' && s.kind !== 'remove').map((s) => s.service));
    const problems = [...plan.refused, ...this.hooks.hostProblems(next, touched)];
    if (problems.length) return this.invalid(file, problems, dryRun);
    if (dryRun) return { status: 'planned', file, plan };
    if (!planChanges(plan)) {
      this.events.note('reload', `reload ${file}: nothing changed`);
      this.hooks.count('applied');
      return { status: 'applied', file, plan, steps: [], notApplied: [] };
    }
    this.events.note('reload', `reload ${file}:`, { file });
    for (const line of planLines(plan)) this.events.note('reload_plan', `  ${line}`);
    const outcome = await applyReload(this.sup, plan, next, {
      rebindMetrics: this.hooks.rebindMetrics,
      onStep: (s) =>
        this.events.write({
          service: null,
          event: s.ok ? 'reload_step' : 'reload_step_failed',
          message: `reload: ${s.target}: ${s.action}: ${s.ok ? 'done' : `failed: ${s.error}`}`,
          fields: { ...s },
        }),
    });
    const failed = outcome.steps.some((s) => !s.ok);
    if (failed && outcome.notApplied.length) this.events.note('reload_stopped', `reload: not applied: ${outcome.notApplied.join('; ')}`);
    this.hooks.count(failed ? 'failed' : 'applied');
    return { status: failed ? 'failed' : 'applied', file, plan, ...outcome };
  }

  private invalid(file: string, problems: string[], dryRun: boolean): ReloadResult {
    if (!dryRun) {
      this.events.note('reload_invalid', `reload ${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}, nothing changed`, { problems });
      this.hooks.count('invalid');
    }
    return { status: 'invalid', file, problems };
  }
}
