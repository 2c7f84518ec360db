// The library's one-shot: run a command in new namespaces under nsvisor-init and wait for it (SPEC section 7).
import { CgroupHandle, openCgroups } from './cgroup';
import { CgroupError } from './cgroup/files';
import { IsolationInput, isolationSchema } from './config/isolation';
import { parseOrThrow } from './config/issues';
import { hostContext } from './process/host-context';
import { startIsolated } from './process/isolated-process';
import { SpawnError } from './process/spawn-error';
import { buildSpawnPlan } from './spec/spawn-spec';
import { parseIPv4 } from './config/addresses';
import { AddressError } from './net/ipam';
import { Attachment, Network } from './net/network';

/** Subnet of a sandbox bridge that nsvisor creates, unless `net.subnet` says otherwise. */
export const DEFAULT_SANDBOX_SUBNET = '10.88.0.0/24';

export interface SandboxOptions extends IsolationInput {
  /** Shown as the default hostname; "sandbox" when absent. */
  name?: string;
  /** Map the caller to root in a new user namespace, as `unshare -r` does. */
  mapRoot?: boolean;
  /** Fds for the command's stdin, stdout and stderr; the caller's own by default. */
  stdio?: [number, number, number];
  /** Environment the `env` option is laid over; empty (PATH only) by default. */
  baseEnv?: Record<string, string | undefined>;
  /** Called with the running process once the command has executed (to signal it, for example). */
  onStart?: (proc: import('./process/isolated-process').IsolatedProcess) => void;
  /**
   * Cgroup root ("/nsvisor" in each hierarchy by default, or $NSVISOR_CGROUP_ROOT). The sandbox gets a cgroup
   * <root>/sandbox-PID-N when `resources` are set or a root is given; it is removed when the command has ended.
   */
  cgroupRoot?: string;
  /** Called with the sandbox's cgroup once created (tests read its files). */
  onCgroup?: (cgroup: CgroupHandle) => void;
  /**
   * Attach to a bridge (needs "net" in isolate): a veth pair, eth0 inside with `address` or the next free one of
   * `subnet`, a default route via the bridge. The bridge is created if absent and removed afterwards if this sandbox
   * created it and no other process holds an address on it.
   */
  net?: { bridge: string; subnet?: string; address?: string };
}

export type ExitReason = 'completed' | 'error' | 'signaled' | 'oom_killed' | 'spawn_failed';

export interface SandboxResult {
  code: number | null;
  signal: string | null;
  /** Host pid of nsvisor-init. */
  pid: number;
  reason: ExitReason;
  /** For spawn_failed: what failed, e.g. "pivot_root(/srv/web): Invalid argument". */
  error?: string;
}

let sandboxes = 0;

function wantsCgroup(resources: object | undefined, root: string | undefined): boolean {
  return (resources !== undefined && Object.values(resources).some((v) => v !== undefined)) || root !== undefined || !!process.env.NSVISOR_CGROUP_ROOT;
}

export async function sandbox(options: SandboxOptions): Promise<SandboxResult> {
  const { name, mapRoot, stdio, baseEnv, onStart, cgroupRoot, onCgroup, net, ...keys } = options;
  const iso = parseOrThrow(isolationSchema, keys);
  const plan = buildSpawnPlan(iso, hostContext({ name: name ?? 'sandbox', mapRoot: !!mapRoot, stdio, baseEnv, defaultCwd: process.cwd() }));
  let cgroup: CgroupHandle | undefined;
  if (wantsCgroup(iso.resources, cgroupRoot)) {
    try {
      cgroup = openCgroups({ root: cgroupRoot }).create(`sandbox-${process.pid}-${++sandboxes}`, iso.resources ?? {});
    } catch (e) {
      if (!(e instanceof CgroupError)) throw e;
      return { code: 125, signal: null, pid: 0, reason: 'spawn_failed', error: e.message };
    }
    onCgroup?.(cgroup);
  }
  let network: Network | undefined;
  let address: number | undefined;
  let attached: Attachment | undefined;
  const owner = name ?? 'sandbox';
  try {
    if (net) {
      if (!plan.namespaces.includes('net')) return failed(`net: attaching to ${net.bridge} requires "net" in isolate`);
      try {
        network = new Network(net.bridge, net.subnet ?? DEFAULT_SANDBOX_SUBNET);
        network.ensure();
        const wanted = net.address === undefined ? undefined : parseIPv4(net.address);
        if (wanted === null) return failed(`net: expected an IPv4 address, got ${JSON.stringify(net.address)}`);
        address = network.lease(owner, wanted);
      } catch (e) {
        const err = e as Error & { syscall?: string };
        if (!(e instanceof AddressError) && err.syscall === undefined) throw e;
        return failed(err.message);
      }
    }
    let proc;
    try {
      const beforeGo = network && (async (pid: number) => void (attached = await network!.connect(pid, owner, address!)));
      proc = await startIsolated(plan, cgroup?.placement, { beforeGo });
    } catch (e) {
      if (!(e instanceof SpawnError)) throw e;
      return { code: e.exitCode, signal: null, pid: e.pid, reason: 'spawn_failed', error: e.message };
    }
    onStart?.(proc);
    const end = await proc.exited;
    // Whichever process of the sandbox the OOM killer chose, the sandbox ended because of it.
    const oom = cgroup !== undefined && cgroup.oomKills() > 0;
    const reason: ExitReason = oom ? 'oom_killed' : end.signal ? 'signaled' : end.code === 0 ? 'completed' : 'error';
    return { code: end.code, signal: end.signal, pid: proc.pid, reason };
  } finally {
    if (network && address !== undefined) await network.detach({ hostIf: attached?.hostIf, address });
    network?.remove();
    await cgroup?.destroy();
  }
}

function failed(error: string): SandboxResult {
  return { code: 125, signal: null, pid: 0, reason: 'spawn_failed', error };
}
