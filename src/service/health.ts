// Liveness of a ready instance (SPEC 4.12): a probe every interval, or a watchdog that WATCHDOG=1 resets; too many failures in a row, and it is unhealthy.
import type { HealthCheck } from '../config/service';
import type { Clock } from './runtime';

export interface HealthHooks {
  /** Runs the probe once, bounded by the check's timeout; true when it passed. (Not used for a watchdog.) */
  probe(): Promise<boolean>;
  /** One check's outcome, for nsvisor_service_health_checks_total. */
  onResult(ok: boolean): void;
  /** The instance is unhealthy: `failures` checks failed in a row (or the watchdog was not reset in time). */
  onUnhealthy(why: string): void;
}

/** Watches one instance from the moment it is ready until stop(). */
export class HealthMonitor {
  private timer: unknown = null;
  private stopped = false;
  private failed = 0;
  private readonly readyAt: number;

  constructor(private readonly check: HealthCheck, private readonly clock: Clock, private readonly hooks: HealthHooks) {
    this.readyAt = clock.now();
    if (check.type === 'watchdog') this.armWatchdog();
    else this.schedule();
  }

  /** A WATCHDOG=1 from the instance: the watchdog starts again from now. */
  ping(): void {
    if (this.check.type !== 'watchdog' || this.stopped) return;
    this.hooks.onResult(true);
    this.armWatchdog();
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimer(this.timer);
  }

  private armWatchdog(): void {
    if (this.check.type !== 'watchdog') return;
    const limit = this.check.watchdog;
    this.clock.clearTimer(this.timer);
    this.timer = this.clock.setTimer(() => {
      if (this.stopped) return;
      this.hooks.onResult(false);
      this.unhealthy(`no WATCHDOG=1 within ${limit} ms`);
    }, limit);
  }

  private schedule(): void {
    this.timer = this.clock.setTimer(() => void this.run(), this.check.interval);
  }

  /** The probe, taken as a failure once the check's timeout has passed (whatever the probe itself does). */
  private bounded(): Promise<boolean> {
    let timer: unknown;
    const late = new Promise<boolean>((resolve) => (timer = this.clock.setTimer(() => resolve(false), this.check.timeout)));
    return Promise.race([this.hooks.probe().catch(() => false), late]).finally(() => this.clock.clearTimer(timer));
  }

  private async run(): Promise<void> {
    if (this.stopped) return;
    const ok = await this.bounded();
    if (this.stopped) return;
    this.hooks.onResult(ok);
    // Failures in the start period do not count, as Docker's and systemd's do not.
    const counted = this.clock.now() - this.readyAt >= this.check.startPeriod;
    this.failed = ok ? 0 : counted ? this.failed + 1 : this.failed;
    if (this.failed >= this.check.failures) return this.unhealthy(`${this.failed} health checks failed in a row`);
    this.schedule();
  }

  private unhealthy(why: string): void {
    this.stop();
    this.hooks.onUnhealthy(why);
  }
}
