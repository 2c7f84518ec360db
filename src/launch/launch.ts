// The one launch path of a service instance and of a sandbox: plan, cgroup, address lease, spawn, network, and the teardown of all of it.
import * as fs from 'fs';

import type { CgroupDriver, CgroupHandle, CgroupStats, Limits } from '../cgroup';
import { LentDevice } from '../net/device';
import type { Network } from '../net/network';
import { IsolatedProcess, startIsolated } from '../process/isolated-process';
import type { ExitStatus } from '../process/isolated-process';
import type { DeviceRule } from '../security/device-rules';
import type { SpawnPlan } from '../spawn-plan/plan';
import { programFd } from '../security/seccomp-program';
import { statsOf } from '../workers/cgroup-stats';
import { LaunchFailure } from './failure';
import { SeccompDeath, seccompDeathOf } from './seccomp-death';

export interface LaunchSpec {
  /** Names the cgroup: the service's name, NAME.N beside another instance, or sandbox-PID-N. */
  name: string;
  /** Who holds the address lease and names the veth: the service (or the sandbox's hostname). */
  owner: string;
  /**
   * Builds the spawn plan (pure; a setting that cannot work throws a SpecError, which fails the launch), given the
   * fd that holds the seccomp program when there is one.
   */
  plan: (seccompFd: number | undefined) => SpawnPlan;
  /** The seccomp program nsvisor-init installs for the command, or null (privileged, unconfined). */
  seccomp: () => Buffer | null;
  /** The devices it may open (the cgroup holds the list), or null for any: privileged. Needs a cgroup. */
  devices: () => readonly DeviceRule[] | null;
  /** Limits for the cgroup; no cgroup at all without a driver. */
  resources: Limits;
  cgroups: CgroupDriver | null;
  /** An address on a bridge: `wanted`, or the next free one. */
  network: { network: Network; wanted?: number } | null;
  /** A host device lent to the instance's network namespace. */
  device: string | null;
  onReaped?(count: number): void;
  /** Something went wrong after the command started that did not end it (a bad status record). */
  onTrouble?(failure: LaunchFailure): void;
  /** A step of the teardown failed (it went on with the rest): recorded and logged, never thrown. */
  onTeardownFailure?(failure: LaunchFailure): void;
}

/** How a launched instance ended, once everything it held is released. */
export interface LaunchEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
  main: ExitStatus['main'];
  /** The cgroup's OOM kill count rose: whichever process the kernel chose, the instance ended because of it. */
  oomKilled: boolean;
  /** The cgroup's counters read just before it was removed (its gauges null). */
  final: CgroupStats | null;
  /** The main process died of SIGSYS: the syscall the seccomp filter's audit record names, or why none was found. */
  seccomp?: SeccompDeath;
}

export interface Launched {
  proc: IsolatedProcess;
  cgroup: CgroupHandle | null;
  /** Settles once the instance has exited and its network and cgroup are released; never rejects. */
  ended: Promise<LaunchEnd>;
  /** The address it holds on a bridge, if any (a successor that adopts it takes the lease over). */
  leased: { network: string; address: number } | null;
}

/** What an attempt holds of the host, to be given back whatever happens. */
export interface Held {
  cgroup: CgroupHandle | null;
  network: Network | null;
  address: number | null;
  hostIf: string | null;
  device: LentDevice | null;
}

type TeardownReport = Pick<LaunchSpec, 'onTeardownFailure'>;

/** Runs one step of the teardown; a failure is reported and the teardown goes on. */
async function tryStep<T>(spec: TeardownReport, step: string, fn: () => T | Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (e) {
    const f = LaunchFailure.from(e);
    spec.onTeardownFailure?.(LaunchFailure.ofStep(step, f.subject, `${step}: ${f.message}`, f.permanent, f.errno));
    return null;
  }
}

/** Gives back what an attempt held: the lent device, the veth and address, then (after a last read of its figures) the cgroup. */
async function release(spec: TeardownReport, held: Held, readFinal: boolean): Promise<CgroupStats | null> {
  if (held.device) await tryStep(spec, 'give back the network device', async () => {
    const err = await held.device!.giveBack();
    if (err) throw err;
  });
  if (held.network && held.address !== null) {
    await tryStep(spec, 'release the address', () => held.network!.detach({ hostIf: held.hostIf ?? undefined, address: held.address! }));
  }
  const cgroup = held.cgroup;
  if (!cgroup) return null;
  // One read of the cgroup's counters before it goes: what it used since the metrics last looked, its OOM kills.
  const final = readFinal ? await tryStep(spec, 'read the final cgroup figures', () => statsOf({ ...cgroup.statsTarget, counters: true })) : null;
  await tryStep(spec, 'remove the cgroup', () => cgroup.destroy());
  return final;
}

/** The audit record's clock is coarse (a tick behind at most): a second of slack before the launch. */
const RECORD_CLOCK_SLACK_MS = 1000;

/** How many pids after its init's the main process may have had: other processes of the host start meanwhile. */
const PID_WINDOW = 256;

/** Why the main process got SIGSYS, from the kernel log: by its host pid, or by its init's when it ended before its own was read. */
function sigsysCause(mainPid: number | null, initPid: number, launchedAt: number): Promise<SeccompDeath> {
  const victim = mainPid === null ? { after: initPid, within: PID_WINDOW } : { pid: mainPid };
  return seccompDeathOf(victim, launchedAt - RECORD_CLOCK_SLACK_MS);
}

/**
 * Launches one instance. Resolves once its command runs; on any failure, releases everything the attempt made and
 * rejects with a LaunchFailure (and nothing else).
 */
export async function launch(spec: LaunchSpec): Promise<Launched> {
  const held: Held = { cgroup: null, network: null, address: null, hostIf: null, device: null };
  let proc: IsolatedProcess;
  let seccompFd: number | undefined;
  const launchedAt = Date.now();
  try {
    const program = spec.seccomp();
    seccompFd = program ? programFd(program) : undefined;
    const plan = spec.plan(seccompFd);
    const devices = spec.devices();
    held.cgroup = spec.cgroups?.create(spec.name, spec.resources) ?? null;
    if (devices) {
      if (!held.cgroup) throw LaunchFailure.ofStep('devices', null, 'devices: the device allow-list needs a cgroup, and there is none', true);
      held.cgroup.restrictDevices(devices);
    }
    if (spec.network) {
      const { network, wanted } = spec.network;
      held.address = network.lease(spec.owner, wanted);
      held.network = network;
    }
    const beforeGo = async (pid: number) => {
      if (spec.device) held.device = await LentDevice.lend(spec.device, pid);
      if (held.network) held.hostIf = (await held.network.connect(pid, spec.owner, held.address!)).hostIf;
    };
    proc = await startIsolated(spec.name, plan, held.cgroup?.placement, { beforeGo, onReaped: spec.onReaped, onGarbage: spec.onTrouble });
  } catch (e) {
    const failure = LaunchFailure.from(e);
    await release(spec, held, false);
    throw failure;
  } finally {
    if (seccompFd !== undefined) fs.closeSync(seccompFd); // the child has its own copy from the clone
  }
  const leased = held.network && held.address !== null ? { network: held.network.name, address: held.address } : null;
  return { proc, cgroup: held.cgroup, ended: settleEnd(proc, held, spec, launchedAt), leased };
}

/**
 * How a running instance's end settles: once its process has exited, what it held is released (the cgroup's last
 * figures read first) and a SIGSYS death is explained from the kernel log (`launchedAt`: when it was started).
 */
export function settleEnd(proc: IsolatedProcess, held: Held, report: TeardownReport, launchedAt: number): Promise<LaunchEnd> {
  const mainPid = proc.mainPid;
  return proc.exited.then(async (end): Promise<LaunchEnd> => {
    const [final, seccomp] = await Promise.all([release(report, held, true), end.main?.signal === 'SIGSYS' ? sigsysCause(mainPid, proc.pid, launchedAt) : undefined]);
    return { code: end.code, signal: end.signal, main: end.main, oomKilled: (final?.oomKills ?? 0) > 0, final, ...(seccomp ? { seccomp } : {}) };
  });
}
