// `nsvisor run` under a service manager (systemd's Type=notify): READY=1 once every service has had its first start, STOPPING=1 at shutdown.
import type { EventLog } from '../events/event-log';
import { addon } from '../native';

export class ManagerNotify {
  private constructor(
    private readonly socket: string,
    private readonly events: EventLog,
  ) {}

  /**
   * The notifier for the NOTIFY_SOCKET nsvisor was started with, null without one. The variable is taken out of the
   * environment, as sd_notify(3) advises: nothing started from here may speak to the manager in nsvisor's name.
   */
  static fromEnv(events: EventLog, env: NodeJS.ProcessEnv = process.env): ManagerNotify | null {
    const socket = env.NOTIFY_SOCKET;
    delete env.NOTIFY_SOCKET;
    return socket ? new ManagerNotify(socket, events) : null;
  }

  /** Sends the assignments (READY=1, STATUS=...); a manager that cannot be told is said, never fatal. */
  send(assignments: Record<string, string>): void {
    const text = Object.entries(assignments).map(([k, v]) => `${k}=${v}\n`).join('');
    try {
      addon.sdNotify(this.socket, text);
    } catch (e) {
      this.events.note('notify_failed', `cannot tell the service manager (NOTIFY_SOCKET): ${(e as Error).message}`);
    }
  }
}
