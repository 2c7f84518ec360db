// The default control socket path, apart from the schema so that the CLI finds it without loading the validator.
import * as path from 'path';

/** /run/nsvisor/nsvisor.sock for root; $XDG_RUNTIME_DIR/nsvisor/nsvisor.sock otherwise (/tmp/nsvisor-UID/nsvisor.sock without it). */
export function defaultControlPath(env: NodeJS.ProcessEnv = process.env, uid: number = process.getuid?.() ?? 0): string {
  if (uid === 0) return '/run/nsvisor/nsvisor.sock';
  const runtime = env.XDG_RUNTIME_DIR;
  return runtime && path.isAbsolute(runtime) ? path.join(runtime, 'nsvisor', 'nsvisor.sock') : `/tmp/nsvisor-${uid}/nsvisor.sock`;
}
