// A service of example servers on held sockets, as the accept-spread bench runs it: one shared accept queue, or one SO_REUSEPORT socket per instance kept for its replacements.
import { exampleServer } from './listen-example';
import { Instance, SocketHolder } from './accept-spread-holder';

/** shared: one socket for every instance (nsvisor today); reuseport: one SO_REUSEPORT socket per instance. */
export type Mode = 'shared' | 'reuseport';

export class Deployment {
  /** The serving instances, one per position (slot). */
  readonly instances: Instance[] = [];
  private sockets = 0;

  private constructor(
    readonly mode: Mode,
    readonly port: number,
    private holder: SocketHolder,
  ) {}

  static async start(mode: Mode, port: number, instances: number, readyDir: string): Promise<Deployment> {
    const d = new Deployment(mode, port, SocketHolder.start(port, mode === 'reuseport', [process.execPath, exampleServer], readyDir));
    try {
      for (let i = 0; i < instances; i++) await d.scaleUp();
    } catch (e) {
      await d.end();
      throw e;
    }
    return d;
  }

  /** The socket a new position gets: the shared one, or a new SO_REUSEPORT one joining the port's group. */
  private async newSocket(): Promise<string> {
    if (this.mode === 'shared' && this.sockets > 0) return '0';
    const socket = String(this.sockets++);
    await this.holder.open(socket);
    return socket;
  }

  async scaleUp(): Promise<void> {
    this.instances.push(await this.holder.spawn(await this.newSocket()));
  }

  /** Zero-downtime replacement of position i: the new instance on the old one's socket, ready before the old one drains. */
  async replace(i: number): Promise<void> {
    const old = this.instances[i];
    this.instances[i] = await this.holder.spawn(old.socket);
    await this.holder.stop(old);
  }

  /** The last position goes: its instance drains; with reuseport its socket is closed too (held copy first, then the instance's). */
  async scaleDown(): Promise<void> {
    const last = this.instances.pop()!;
    if (this.mode === 'reuseport') await this.holder.close(last.socket);
    await this.holder.stop(last);
  }

  /** The last position's instance stops running for ms (SIGSTOP, then SIGCONT): hung, but still holding its socket. */
  async stall(ms: number): Promise<void> {
    const last = this.instances[this.instances.length - 1];
    process.kill(last.pid, 'SIGSTOP');
    await new Promise((r) => setTimeout(r, ms));
    process.kill(last.pid, 'SIGCONT');
  }

  async end(): Promise<void> {
    await this.holder.end();
  }
}
