// Restart delays: start at `delay`, double on each failure up to `maxDelay`, back to `delay` after `resetAfter` of healthy running. Pure.
export interface BackoffSettings {
  delay: number;
  maxDelay: number;
  resetAfter: number;
}

export class Backoff {
  private current: number;

  constructor(private readonly s: BackoffSettings) {
    this.current = s.delay;
  }

  /** The delay before the next start, given how long the instance that just ended ran (ms). */
  next(ranFor: number): number {
    if (ranFor >= this.s.resetAfter) this.current = this.s.delay;
    const delay = this.current;
    this.current = Math.min(this.current * 2, this.s.maxDelay);
    return Math.min(delay, this.s.maxDelay);
  }
}

export type RestartPolicy = 'always' | 'on-failure' | 'never';

/** Whether an exit for `reason` should be followed by a new start. */
export function shouldRestart(policy: RestartPolicy, reason: string): boolean {
  if (policy === 'always') return true;
  if (policy === 'never') return false;
  return reason !== 'completed';
}
