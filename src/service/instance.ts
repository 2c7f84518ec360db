// One running instance of a service: its nsvisor-init, cgroup, network lease, notify socket and output pipes, from spawn to release.
import * as fs from 'fs';
import * as net from 'net';

import type { CgroupDriver, CgroupHandle, CgroupStats } from '../cgroup';
import { parseIPv4 } from '../config/addresses';
import type { ServiceConfig } from '../config/schema';
import { addon } from '../native';
import type { Network } from '../net/network';
import { LentDevice } from '../net/device';
import { hostContext } from '../process/host-context';
import { ExitStatus, IsolatedProcess, startIsolated } from '../process/isolated-process';
import { buildSpawnPlan, identityArgs, SpecError } from '../spec/spawn-spec';
import { statsOf } from '../workers/cgroup-stats';
import type { ListenSockets } from './listen-sockets';
import { NotifyChannel, openNotify } from './notify';
import { waitReady } from './readiness';

export interface InstanceRuntime {
  /** Directory for the services' notify sockets. */
  notifyDir: string;
  /** An fd of /dev/null for the services' stdin. */
  devNull: number;
  /** Where each instance gets its cgroup (limits, kill-all, OOM, stats); null runs services without one. */
  cgroups: CgroupDriver | null;
  /** The supervisor's declared networks, for `network.attach`. */
  networks?: Map<string, Network>;
}

/** What a new instance needs beyond the service's settings. */
export interface InstanceOptions {
  /** Names its cgroup and notify socket: the service's name, or NAME.N beside another instance still alive. */
  instanceName: string;
  /** Sockets held by the supervisor, passed as fds 3.. */
  listen: ListenSockets | null;
  onStatusText: (text: string) => void;
  onOutput: (stream: net.Socket, source: 'stdout' | 'stderr') => void;
  /** nsvisor-init reaped this many orphans (reported in batches). */
  onReaped: (count: number) => void;
}

/** How an instance ended, known once its network and cgroup are released. */
export interface InstanceEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** How the main process ended, as nsvisor-init reported it (null: it could not). */
  main: ExitStatus['main'];
  /** The cgroup's OOM kill count rose: whichever process the kernel chose, the instance ended because of it. */
  oomKilled: boolean;
  /** The cgroup's figures read just before it was removed: what the instance used since the metrics last looked. */
  final: CgroupStats | null;
}

/** The address and veth of an instance on its network. */
interface Lease {
  network: Network;
  address: number;
  pid?: number;
  hostIf?: string;
}

/** What an instance holds of the host's networking: its lease, and the host device of `network.device` lent to it. */
interface Attachments {
  lease: Lease | null;
  device: LentDevice | null;
}

export class Instance {
  readonly startedAt = new Date();
  /** Settles once the instance has exited and its network and cgroup are released. */
  readonly ended: Promise<InstanceEnd>;
  /** Aborts the readiness wait (the instance ended, or a stop came). */
  private readonly abort = new AbortController();
  private stopping?: Promise<boolean>;

  private constructor(
    private readonly settings: ServiceConfig,
    readonly proc: IsolatedProcess,
    readonly cgroup: CgroupHandle | null,
    attached: Attachments,
    private readonly notify: NotifyChannel | null,
  ) {
    this.ended = proc.exited.then(async (end) => {
      notify?.close();
      this.abort.abort();
      await release(attached);
      // One read of the cgroup's figures before it goes: the metrics add what it used since they last looked,
      // and its OOM kill count says whether the kernel ended it.
      const final = cgroup ? statsOf({ ...cgroup.statsTarget, skipLimits: true }) : null;
      const oomKilled = (final?.oomKills ?? 0) > 0;
      await cgroup?.destroy();
      return { code: end.code, signal: end.signal, main: end.main, oomKilled, final };
    });
  }

  /** Host pid of the instance's nsvisor-init. */
  get pid(): number {
    return this.proc.pid;
  }

  /**
   * Creates the cgroup (limited before the service's first instruction), leases an address, spawns nsvisor-init
   * and connects its network before it runs anything. On failure releases all of it and rethrows.
   */
  static async spawn(name: string, settings: ServiceConfig, runtime: InstanceRuntime, opts: InstanceOptions): Promise<Instance> {
    const notify = settings.ready?.type === 'notify' ? openNotify(runtime.notifyDir, opts.instanceName, opts.onStatusText) : null;
    const [outR, outW] = addon.pipe();
    const [errR, errW] = addon.pipe();
    let cgroup: CgroupHandle | null = null;
    const attached: Attachments = { lease: null, device: null };
    try {
      cgroup = runtime.cgroups?.create(opts.instanceName, settings.resources) ?? null;
      const lease = (attached.lease = leaseAddress(name, settings, runtime));
      const device = settings.network?.device;
      const beforeGo = async (pid: number) => {
        if (device) attached.device = await LentDevice.lend(device, pid);
        if (!lease) return;
        lease.pid = pid;
        lease.hostIf = (await lease.network.connect(pid, name, lease.address)).hostIf;
      };
      const proc = await startIsolated(plan(name, settings, runtime, opts.listen, notify, outW, errW), cgroup?.placement, { beforeGo, onReaped: opts.onReaped });
      opts.onOutput(new net.Socket({ fd: outR, readable: true, writable: false }), 'stdout');
      opts.onOutput(new net.Socket({ fd: errR, readable: true, writable: false }), 'stderr');
      return new Instance(settings, proc, cgroup, attached, notify);
    } catch (e) {
      for (const fd of [outR, errR]) fs.closeSync(fd);
      notify?.close();
      await release(attached);
      await cgroup?.destroy();
      throw e;
    } finally {
      for (const fd of [outW, errW]) fs.closeSync(fd);
    }
  }

  /** Resolves when the ready check passes; rejects when it times out or the instance ends first. */
  waitReady(): Promise<void> {
    const netIsolated = (this.settings.isolate ?? []).includes('net');
    const probe = { pid: this.pid, notified: this.notify?.notified ?? Promise.resolve(), identity: identityArgs(this.settings) };
    return waitReady(this.settings.ready, probe, netIsolated, this.abort.signal);
  }

  /** Sends a signal through nsvisor-init; false once it is gone. */
  kill(signal: NodeJS.Signals): boolean {
    return this.proc.kill(signal);
  }

  /**
   * stop.signal through nsvisor-init; after stop.timeout plus the drain, SIGKILL of it (its pid namespace goes
   * with it) and of everything else in its cgroup. Resolves with whether it had to be killed, once it is released.
   */
  stop(): Promise<boolean> {
    return (this.stopping ??= this.stopOnce());
  }

  private async stopOnce(): Promise<boolean> {
    this.abort.abort();
    const { signal, timeout, drain } = this.settings.stop;
    this.proc.kill(signal as NodeJS.Signals);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeout + drain)));
    const killed = await Promise.race([this.proc.exited.then(() => false), late]);
    clearTimeout(timer);
    if (killed) {
      this.proc.kill('SIGKILL');
      await this.cgroup?.kill();
    }
    await this.ended;
    return killed;
  }
}

function plan(name: string, s: ServiceConfig, runtime: InstanceRuntime, listen: ListenSockets | null, notify: NotifyChannel | null, outW: number, errW: number) {
  return buildSpawnPlan(
    s,
    hostContext({
      name,
      stdio: [runtime.devNull, outW, errW],
      passFds: listen?.fds ?? [],
      newSession: true,
      baseEnv: { ...(notify ? { NOTIFY_SOCKET: notify.path } : {}), ...listen?.env() },
      notifySocket: notify?.path,
    }),
  );
}

/** An address on the network of `network.attach` (the configured one or the next free one), or null without one. */
function leaseAddress(name: string, settings: ServiceConfig, runtime: InstanceRuntime): Lease | null {
  const attach = settings.network?.attach;
  if (!attach) return null;
  const network = runtime.networks?.get(attach);
  if (!network) throw new SpecError('network.attach', `no network ${attach} is declared`);
  const wanted = settings.network?.address;
  return { network, address: network.lease(name, wanted === undefined ? undefined : parseIPv4(wanted) ?? undefined) };
}

/** Moves a lent host device back, deletes the veth (if its namespace has not taken it already) and gives the address back. */
async function release({ lease, device }: Attachments): Promise<void> {
  await device?.giveBack();
  await lease?.network.detach(lease);
}
