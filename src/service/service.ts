// One supervised service: starts instances under nsvisor-init, waits until ready, restarts with backoff, stops gracefully.
import { EventEmitter } from 'eventemitter3';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';

import { CgroupError } from '../cgroup';
import type { CgroupDriver, CgroupHandle } from '../cgroup';
import type { ServiceConfig } from '../config/schema';
import { addon } from '../native';
import { hostContext } from '../process/host-context';
import { IsolatedProcess, startIsolated } from '../process/isolated-process';
import { SpawnError } from '../process/spawn-error';
import { parseIPv4 } from '../config/addresses';
import { AddressError } from '../net/ipam';
import type { Network } from '../net/network';
import { LentDevice } from '../net/device';
import { buildSpawnPlan, SpecError } from '../spec/spawn-spec';
import { Backoff, shouldRestart } from './backoff';
import { classifyExit, ExitRecord } from './exit-reason';
import { NotifyChannel, openNotify } from './notify';
import { waitReady } from './readiness';
import { assertTransition, ServiceState } from './states';

export interface ServiceEvents {
  state: (name: string, state: ServiceState, previous: ServiceState) => void;
  exit: (name: string, exit: ExitRecord) => void;
  spawned: (name: string, seconds: number) => void;
  ready: (name: string, seconds: number) => void;
  stopped: (name: string, seconds: number, killed: boolean) => void;
  output: (name: string, stream: net.Socket, source: 'stdout' | 'stderr') => void;
}

export interface ServiceRuntime {
  /** Directory for the services' notify sockets. */
  notifyDir: string;
  /** An fd of /dev/null for the services' stdin. */
  devNull: number;
  /** Where each instance gets its cgroup (limits, kill-all, OOM, stats); null runs services without one. */
  cgroups: CgroupDriver | null;
  /** The supervisor's declared networks, for `network.attach`. */
  networks?: Map<string, Network>;
}

/** The address and veth of the current instance on its network. */
interface Lease {
  network: Network;
  address: number;
  pid?: number;
  hostIf?: string;
}

const seconds = (since: number) => (performance.now() - since) / 1000;

export class Service extends EventEmitter<ServiceEvents> {
  state: ServiceState = 'stopped';
  /** Host pid of the current instance's nsvisor-init. */
  pid: number | null = null;
  startedAt: Date | null = null;
  starts = 0;
  restarts = 0;
  lastExit: ExitRecord | null = null;
  /** Why the last attempt failed (spawn error, readiness), for status. */
  failure: string | null = null;
  /** The service's own words, from sd_notify STATUS=. */
  statusText: string | null = null;
  /** When the next start is due, while in backoff. */
  nextStartAt: Date | null = null;

  private proc: IsolatedProcess | null = null;
  /** The cgroup of the current instance. */
  cgroup: CgroupHandle | null = null;
  /** The current instance's address on its network, while it holds one. */
  private lease: Lease | null = null;
  /** The host device of `network.device` while the current instance has it. */
  private device: LentDevice | null = null;
  private wanted = false;
  private readonly backoff: Backoff;
  private retryTimer?: NodeJS.Timeout;
  private attemptAbort?: AbortController;
  private stopping?: Promise<void>;
  /** Settles once onExit has recorded the current instance's end and released its cgroup. */
  private exitHandled: Promise<void> = Promise.resolve();
  /** The instance being spawned, or null when that spawn failed. */
  private spawning: Promise<IsolatedProcess | null> = Promise.resolve(null);
  private waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];

  constructor(readonly name: string, readonly settings: ServiceConfig, private readonly runtime: ServiceRuntime) {
    super();
    this.backoff = new Backoff(settings.restart);
  }

  /** Asks for the service to run; resolves once it is running and ready, rejects if it fails for good or is stopped first. */
  start(): Promise<void> {
    this.wanted = true;
    if (this.state === 'stopped' || this.state === 'failed') void this.attempt();
    return this.whenRunning();
  }

  /** Resolves at the first outcome of a start: running, backing off, or failed. */
  settled(): Promise<void> {
    const outcome = (s: ServiceState) => s === 'running' || s === 'backoff' || s === 'failed';
    if (outcome(this.state)) return Promise.resolve();
    return new Promise((resolve) => {
      const on = (_n: string, s: ServiceState) => {
        if (!outcome(s)) return;
        this.off('state', on);
        resolve();
      };
      this.on('state', on);
    });
  }

  whenRunning(): Promise<void> {
    if (this.state === 'running') return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Stops the service and keeps it stopped; resolves once nothing of it runs. */
  stop(): Promise<void> {
    this.wanted = false;
    clearTimeout(this.retryTimer);
    if (this.state === 'backoff' || this.state === 'failed') this.setState('stopped');
    if (this.state === 'stopped') return Promise.resolve();
    return (this.stopping ??= this.stopInstance().finally(() => (this.stopping = undefined)));
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Sends a signal to the running instance (through nsvisor-init); false when none runs. */
  kill(signal: NodeJS.Signals): boolean {
    return this.proc?.kill(signal) ?? false;
  }

  private setState(next: ServiceState): void {
    const prev = this.state;
    if (prev === next) return;
    assertTransition(this.name, prev, next);
    this.state = next;
    this.nextStartAt = null;
    this.emit('state', this.name, next, prev);
    if (next === 'running') this.settle();
    else if (next === 'failed' || (next === 'stopped' && !this.wanted)) this.settle(new Error(`${this.name}: ${next}${this.failure ? `: ${this.failure}` : ''}`));
  }

  private settle(err?: Error): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) (err ? w.reject(err) : w.resolve());
  }

  private async attempt(): Promise<void> {
    this.setState('starting');
    if (this.starts++ > 0) this.restarts++;
    const abort = (this.attemptAbort = new AbortController());
    const t0 = performance.now();
    const notify = this.settings.ready?.type === 'notify' ? openNotify(this.runtime.notifyDir, this.name, (s) => (this.statusText = s)) : null;
    const [outR, outW] = addon.pipe();
    const [errR, errW] = addon.pipe();
    let proc: IsolatedProcess;
    try {
      // The cgroup exists, limited, before the first instruction of the service runs inside it.
      this.cgroup = this.runtime.cgroups?.create(this.name, this.settings.resources) ?? null;
      const lease = this.leaseAddress();
      const device = this.settings.network?.device;
      const beforeGo = async (pid: number) => {
        if (device) this.device = await LentDevice.lend(device, pid);
        if (!lease) return;
        lease.pid = pid;
        lease.hostIf = (await lease.network.connect(pid, this.name, lease.address)).hostIf;
      };
      const spawning = startIsolated(this.plan(notify, outW, errW), this.cgroup?.placement, { beforeGo });
      this.spawning = spawning.catch(() => null);
      proc = await spawning;
    } catch (e) {
      for (const fd of [outR, errR]) fs.closeSync(fd);
      notify?.close();
      await this.releaseNetwork();
      await this.releaseCgroup();
      return this.spawnFailed(e as Error);
    } finally {
      for (const fd of [outW, errW]) fs.closeSync(fd);
    }
    this.proc = proc;
    this.pid = proc.pid;
    this.startedAt = new Date();
    this.failure = null;
    this.emit('output', this.name, new net.Socket({ fd: outR, readable: true, writable: false }), 'stdout');
    this.emit('output', this.name, new net.Socket({ fd: errR, readable: true, writable: false }), 'stderr');
    this.emit('spawned', this.name, seconds(t0));
    this.exitHandled = proc.exited.then((end) => this.onExit(proc, end.code, end.signal, notify));
    if (this.state !== 'starting') return; // a stop came while we were spawning: stopInstance takes this instance
    const netIsolated = (this.settings.isolate ?? []).includes('net');
    try {
      await waitReady(this.settings.ready, { pid: proc.pid, notified: notify?.notified ?? Promise.resolve() }, netIsolated, abort.signal);
    } catch (e) {
      if (this.proc !== proc || this.state !== 'starting') return; // it ended, or a stop took over
      this.failure = `not ready: ${(e as Error).message}`;
      proc.kill('SIGKILL'); // a failed attempt: onExit decides on the retry
      return;
    }
    if (this.proc !== proc || this.state !== 'starting') return;
    this.emit('ready', this.name, seconds(t0));
    this.setState('running');
  }

  private plan(notify: NotifyChannel | null, outW: number, errW: number) {
    const s = this.settings;
    const extraMounts =
      notify && s.rootfs ? [{ type: 'bind' as const, source: notify.path, target: notify.path, readonly: false }] : [];
    const settings = { ...s, mounts: [...s.mounts, ...extraMounts] };
    return buildSpawnPlan(
      settings,
      hostContext({
        name: this.name,
        stdio: [this.runtime.devNull, outW, errW],
        newSession: true,
        baseEnv: notify ? { NOTIFY_SOCKET: notify.path } : {},
      }),
    );
  }

  /** A start that did not reach the command: failed for good when it can never work, else a retry. */
  private spawnFailed(e: Error): void {
    const permanent = e instanceof SpecError || e instanceof CgroupError || (e instanceof SpawnError && e.exitCode !== 125);
    if (!(e instanceof SpecError || e instanceof SpawnError || e instanceof CgroupError || e instanceof AddressError)) throw e;
    this.failure = e.message;
    this.lastExit = { code: e instanceof SpawnError ? e.exitCode : null, signal: null, reason: 'spawn_failed', at: new Date() };
    this.emit('exit', this.name, this.lastExit);
    if (this.state === 'stopping') return; // stopInstance finishes the job
    if (permanent || !this.wanted) this.setState(permanent ? 'failed' : 'stopped');
    else this.scheduleRetry(0);
  }

  /** An address on the network of `network.attach` (the configured one or the next free one), or null without one. */
  private leaseAddress(): Lease | null {
    const attach = this.settings.network?.attach;
    if (!attach) return null;
    const network = this.runtime.networks?.get(attach);
    if (!network) throw new SpecError('network.attach', `no network ${attach} is declared`);
    const wanted = this.settings.network?.address;
    const address = network.lease(this.name, wanted === undefined ? undefined : parseIPv4(wanted) ?? undefined);
    return (this.lease = { network, address });
  }

  /** Deletes the instance's veth (if its namespace has not taken it already), gives its address and its host device back. */
  private async releaseNetwork(): Promise<void> {
    const lease = this.lease;
    const device = this.device;
    this.lease = null;
    this.device = null;
    await device?.giveBack();
    await lease?.network.detach(lease);
  }

  /** Kills whatever is left in the instance's cgroup (processes outside a pid namespace of its own) and removes it. */
  private async releaseCgroup(): Promise<void> {
    const cgroup = this.cgroup;
    this.cgroup = null;
    await cgroup?.destroy();
  }

  private async onExit(proc: IsolatedProcess, code: number | null, signal: NodeJS.Signals | null, notify: NotifyChannel | null): Promise<void> {
    notify?.close();
    this.attemptAbort?.abort();
    if (this.proc !== proc) return;
    await this.releaseNetwork();
    // Whichever process of the service the OOM killer chose, the service ended because of it.
    const oomKilled = (this.cgroup?.oomKills() ?? 0) > 0;
    await this.releaseCgroup();
    this.proc = null;
    this.pid = null;
    this.lastExit = classifyExit(code, signal, oomKilled);
    this.emit('exit', this.name, this.lastExit);
    if (this.state === 'stopping') return; // stopInstance finishes the job
    const ranFor = this.startedAt ? Date.now() - this.startedAt.getTime() : 0;
    if (this.wanted && shouldRestart(this.settings.restart.policy, this.lastExit.reason)) this.scheduleRetry(ranFor);
    else {
      this.wanted = false;
      this.setState('stopped');
    }
  }

  private scheduleRetry(ranFor: number): void {
    const delay = this.backoff.next(ranFor);
    this.setState('backoff');
    this.nextStartAt = new Date(Date.now() + delay);
    this.retryTimer = setTimeout(() => void this.attempt(), delay);
  }

  /** stop.signal through nsvisor-init; SIGKILL when the instance has not ended within stop.timeout plus the drain. */
  private async stopInstance(): Promise<void> {
    this.setState('stopping');
    this.attemptAbort?.abort();
    const proc = this.proc ?? (await this.spawning);
    if (!proc) return this.setState('stopped');
    const t0 = performance.now();
    const stop = this.settings.stop;
    proc.kill(stop.signal as NodeJS.Signals);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((r) => (timer = setTimeout(() => r(true), stop.timeout + stop.drain)));
    const killed = await Promise.race([proc.exited.then(() => false), late]);
    clearTimeout(timer);
    if (killed) {
      proc.kill('SIGKILL'); // nsvisor-init is PID 1: the whole pid namespace goes with it
      await this.cgroup?.kill(); // and everything else in the service's cgroup
    }
    await proc.exited;
    await this.exitHandled;
    this.setState('stopped');
    this.emit('stopped', this.name, seconds(t0), killed);
  }
}

export const notifyDirOf = (controlSocket: string) => path.join(path.dirname(controlSocket), 'notify');
