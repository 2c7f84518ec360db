// The library's one-shot: run a command in new namespaces under nsvisor-init and wait for it (SPEC section 7).
import { IsolationInput, isolationSchema } from './config/isolation';
import { parseOrThrow } from './config/issues';
import { hostContext } from './process/host-context';
import { startIsolated } from './process/isolated-process';
import { SpawnError } from './process/spawn-error';
import { buildSpawnPlan } from './spec/spawn-spec';

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
}

export type ExitReason = 'completed' | 'error' | 'signaled' | 'spawn_failed';

export interface SandboxResult {
  code: number | null;
  signal: string | null;
  /** Host pid of nsvisor-init. */
  pid: number;
  reason: ExitReason;
  /** For spawn_failed: what failed, e.g. "pivot_root(/srv/web): Invalid argument". */
  error?: string;
}

export async function sandbox(options: SandboxOptions): Promise<SandboxResult> {
  const { name, mapRoot, stdio, baseEnv, onStart, ...keys } = options;
  const iso = parseOrThrow(isolationSchema, keys);
  const plan = buildSpawnPlan(iso, hostContext({ name: name ?? 'sandbox', mapRoot: !!mapRoot, stdio, baseEnv, defaultCwd: process.cwd() }));
  let proc;
  try {
    proc = await startIsolated(plan);
  } catch (e) {
    if (!(e instanceof SpawnError)) throw e;
    return { code: e.exitCode, signal: null, pid: e.pid, reason: 'spawn_failed', error: e.message };
  }
  onStart?.(proc);
  const end = await proc.exited;
  const reason: ExitReason = end.signal ? 'signaled' : end.code === 0 ? 'completed' : 'error';
  return { code: end.code, signal: end.signal, pid: proc.pid, reason };
}
