// The supervisor's own output: one line per event a person must know about (a failed start, an OOM kill, a backoff), as text or JSON.
import type { ExitRecord } from '../launch/exit-reason';
import type { LaunchFailure } from '../launch/failure';
import { describeSeccompDeath } from '../launch/seccomp-death';
import type { Supervisor } from '../supervisor';

export type LogFormat = 'text' | 'json';

export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];

/** One event: which service (null for the supervisor itself), what happened, in words and as fields. */
export interface SupervisorEvent {
  service: string | null;
  event: string;
  message: string;
  fields?: Record<string, unknown>;
}

/** "1.5s", "200ms", "2m" */
export function formatDelay(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))}s`;
  return `${Number((ms / 60_000).toFixed(1))}m`;
}

/** How an instance ended, in words: "exit code 1", "killed by SIGSEGV", "killed by the OOM killer", "killed by the seccomp filter (SIGSYS) at syscall 110 (getppid)". */
export function describeExit(e: ExitRecord): string {
  if (e.reason === 'oom_killed') return 'killed by the OOM killer (its memory limit)';
  if (e.seccomp) return describeSeccompDeath(e.seccomp);
  if (e.reason === 'signaled') return `killed by ${e.signal}`;
  if (e.reason === 'completed') return 'exited 0';
  return `exit code ${e.code}`;
}

function failureFields(f: LaunchFailure): Record<string, unknown> {
  return { step: f.step, subject: f.subject, errno: f.errnoName, permanent: f.permanent };
}

export class EventLog {
  /** The output failed (its reader went away: EPIPE); the lines after that are dropped. */
  private outGone = false;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly format: LogFormat = 'text',
    private readonly now: () => Date = () => new Date(),
  ) {
    // Without a listener the stream's error would be an uncaught exception, whose report is a line to this same
    // stream: a loop at full CPU. A supervisor whose output nobody reads goes on without it.
    out.on('error', () => (this.outGone = true));
  }

  write(e: SupervisorEvent): void {
    if (this.outGone) return;
    if (this.format === 'json') {
      this.out.write(`${JSON.stringify({ time: this.now().toISOString(), service: e.service, event: e.event, message: e.message, ...e.fields })}\n`);
    } else {
      this.out.write(`nsvisor: ${e.service ? `${e.service}: ` : ''}${e.message}\n`);
    }
  }

  /** A line of the supervisor itself (no service). */
  note(event: string, message: string, fields?: Record<string, unknown>): void {
    this.write({ service: null, event, message, fields });
  }

  /** Writes a line for each event of `sup`'s services that a person must know about. */
  follow(sup: Supervisor): void {
    const say = (service: string, event: string, message: string, fields?: Record<string, unknown>) => this.write({ service, event, message, fields });
    sup.on('startFailed', (name, f) => say(name, 'start_failed', `start failed: ${f.message}${f.permanent ? ' (it cannot work as configured: not retried)' : ''}`, failureFields(f)));
    sup.on('notReady', (name, why) => say(name, 'not_ready', `not ready: ${why}; killed`, { why }));
    sup.on('backoff', (name, delay) => say(name, 'backoff', `next start in ${formatDelay(delay)}`, { delayMs: delay }));
    sup.on('unhealthy', (name, why) => say(name, 'unhealthy', `unhealthy: ${why}; replacing it`, { why }));
    sup.on('trouble', (name, f) => say(name, 'trouble', f.message, failureFields(f)));
    sup.on('ready', (name, seconds) => {
      const pid = sup.services.get(name)?.pid;
      say(name, 'ready', `ready${pid ? ` (pid ${pid})` : ''} after ${formatDelay(seconds * 1000)}`, { pid, seconds });
    });
    sup.on('stopped', (name, seconds, killed) => {
      say(name, 'stopped', `stopped after ${formatDelay(seconds * 1000)}${killed ? ', SIGKILLed at stop.timeout' : ''}`, { seconds, killed });
    });
    sup.on('state', (name, state) => {
      if (state === 'failed') say(name, 'failed', `failed: ${sup.services.get(name)?.failure ?? 'no reason known'}`);
    });
    sup.on('exit', (name, exit, aside) => {
      // A start that failed has its own line; an instance retired or stopped on purpose is no news.
      if (aside || exit.reason === 'spawn_failed' || sup.services.get(name)?.state === 'stopping') return;
      say(name, exit.reason === 'oom_killed' ? 'oom_killed' : 'exited', `${exit.reason === 'completed' ? 'ended' : 'died'}: ${describeExit(exit)}`, {
        reason: exit.reason, code: exit.code, signal: exit.signal, ...(exit.seccomp ? { syscall: exit.seccomp.syscall, syscallName: exit.seccomp.name } : {}),
      });
    });
    sup.on('hostProblem', (p) =>
      this.write({ service: p.service, event: 'host_problem', message: `${p.path}: ${p.message}${p.permanent ? '' : ' (it may clear: the service is tried anyway)'}`, fields: { path: p.path, permanent: p.permanent } }),
    );
    sup.on('adopted', (name, t, instance) => {
      const lost = t.dropped ? `; ${t.dropped} lines of its output were dropped meanwhile (nsvisor-init's buffer was full)` : '';
      say(name, 'adopted', `adopted ${instance} (nsvisor-init pid ${t.pid}) after ${formatDelay(t.orphanedMs)} without a supervisor${lost}`, { ...t, instance });
    });
    sup.on('notAdopted', (service, cgroup, why) => this.write({ service, event: 'not_adopted', message: `instance ${cgroup} left by a supervisor that died: ${why}`, fields: { cgroup, why } }));
    sup.on('adoptedChange', (service, instance, action, error) =>
      say(service, error ? 'adopted_change_failed' : 'adopted_change', `adopted ${instance}, ${action}: ${error ? `failed: ${error}` : 'done'}`, { instance, action, error }),
    );
    sup.on('shutdownTimeout', (names) => this.note('shutdown_timeout', `shutdownTimeout reached: killing ${names.join(', ')}`, { services: names }));
  }
}
