// The library's one-shot: run a command in new namespaces under nsvisor-init and wait for it (SPEC section 7).
import { CgroupDriver, CgroupHandle, openCgroups } from './cgroup';
import { parseIPv4 } from './config/addresses';
import { IsolationInput, isolationSchema } from './config/isolation';
import { parseOrThrow } from './config/issues';
import { classifyEnd, ExitReason } from './launch/exit-reason';
import { LaunchFailure } from './launch/failure';
import type { SeccompDeath } from './launch/seccomp-death';
import { launch } from './launch/launch';
import { Network } from './net/network';
import { hostContext } from './process/host-context';
import type { IsolatedProcess } from './process/isolated-process';
import { devicePolicy } from './security/device-policy';
import { protectionsOf } from './security/protections';
import { seccompProgram } from './security/seccomp-program';
import { buildSpawnPlan, namespacesOf } from './spawn-plan/plan';

export type { ExitReason } from './launch/exit-reason';

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
  onStart?: (proc: IsolatedProcess) => void;
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

export interface SandboxResult {
  code: number | null;
  signal: string | null;
  /** Host pid of nsvisor-init. */
  pid: number;
  reason: ExitReason;
  /** For spawn_failed: what failed, e.g. "pivot_root(/srv/web): Invalid argument". */
  error?: string;
  /** The command died of SIGSYS: the syscall the seccomp filter's audit record names, or why none was found. */
  seccomp?: SeccompDeath;
  /** Steps of the teardown that failed (the cgroup could not be removed, ...); the result stands. */
  teardown?: string[];
}

let sandboxes = 0;

function wantsCgroup(resources: object | undefined, root: string | undefined): boolean {
  return (resources !== undefined && Object.values(resources).some((v) => v !== undefined)) || root !== undefined || !!process.env.NSVISOR_CGROUP_ROOT;
}

function failed(f: LaunchFailure): SandboxResult {
  return { code: f.exitCode, signal: null, pid: f.pid, reason: 'spawn_failed', error: f.message };
}

/** The bridge of `net`, made (or reused) for this sandbox, with the address it asks for. */
function bridgeOf(net: NonNullable<SandboxOptions['net']>, namespaces: string[]): { network: Network; wanted?: number } {
  if (!namespaces.includes('net')) throw LaunchFailure.ofStep('net', null, `net: attaching to ${net.bridge} requires "net" in isolate`, true);
  const wanted = net.address === undefined ? undefined : parseIPv4(net.address);
  if (wanted === null) throw LaunchFailure.ofStep('net', null, `net: expected an IPv4 address, got ${JSON.stringify(net.address)}`, true);
  const network = new Network(net.bridge, net.subnet ?? DEFAULT_SANDBOX_SUBNET);
  network.ensure();
  return { network, wanted };
}

/** Runs the command and waits for it; a start that fails is a `spawn_failed` result, never an exception. */
export async function sandbox(options: SandboxOptions): Promise<SandboxResult> {
  const { name, mapRoot, stdio, baseEnv, onStart, cgroupRoot, onCgroup, net, ...keys } = options;
  const iso = parseOrThrow(isolationSchema, keys);
  const ctx = hostContext({ name: name ?? 'sandbox', mapRoot: !!mapRoot, stdio, baseEnv, defaultCwd: process.cwd() });
  const teardown: string[] = [];
  let network: Network | null = null;
  try {
    const guard = protectionsOf(iso);
    const plan = (seccompFd: number | undefined) => buildSpawnPlan(iso, { ...ctx, seccompFd });
    const namespaces = namespacesOf(iso, !!mapRoot);
    // Root outside a user namespace could mknod a host disk and open it: the cgroup's allow-list stops that. In a
    // user namespace of its own, or started by a user that is not root, it cannot make a device node at all.
    const devices = namespaces.includes('user') || ctx.uid !== 0 ? null : devicePolicy(guard);
    const cgroups: CgroupDriver | null = devices || wantsCgroup(iso.resources, cgroupRoot) ? openCgroups({ root: cgroupRoot }) : null;
    const attach = net ? bridgeOf(net, namespaces) : null;
    network = attach?.network ?? null;
    const launched = await launch({
      name: `sandbox-${process.pid}-${++sandboxes}`,
      owner: name ?? 'sandbox',
      plan,
      seccomp: () => seccompProgram(guard.seccomp, guard.capabilities),
      devices: () => devices,
      resources: iso.resources ?? {},
      cgroups,
      network: attach,
      device: null,
      onTeardownFailure: (f) => teardown.push(f.message),
    });
    if (launched.cgroup) onCgroup?.(launched.cgroup);
    onStart?.(launched.proc);
    const end = await launched.ended;
    const exit = classifyEnd(end);
    return {
      code: end.code, signal: end.signal, pid: launched.proc.pid, reason: exit.reason,
      ...(exit.seccomp ? { seccomp: exit.seccomp } : {}), ...(teardown.length ? { teardown } : {}),
    };
  } catch (e) {
    return failed(LaunchFailure.from(e));
  } finally {
    try {
      network?.remove();
    } catch {
      /* another sandbox may hold the bridge still; the last one removes it */
    }
  }
}
