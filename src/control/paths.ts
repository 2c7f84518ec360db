// Where the supervisor's control socket lives by default: /run/nsvisor for root, $XDG_RUNTIME_DIR/nsvisor otherwise.
import * as os from 'os';
import * as path from 'path';

export function defaultControlSocket(): string {
  if (process.geteuid?.() === 0) return '/run/nsvisor/nsvisor.sock';
  const runtime = process.env.XDG_RUNTIME_DIR || path.join(os.tmpdir(), `nsvisor-${process.geteuid?.()}`);
  return path.join(runtime, 'nsvisor', 'nsvisor.sock');
}
