// Debian's tini for the bench to compare nsvisor-init with: the one on PATH, else the package unpacked into a scratch directory (apt-get download, dpkg -x), never installed.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { findExecutable, versionOf } from './tools';

export interface Tini {
  /** tini (dynamically linked) and tini-static, as Debian ships them; null where not found. */
  tini: string | null;
  tiniStatic: string | null;
  version: string | null;
  /** Where they came from, or why there is none. */
  source: string;
  /** Removes the scratch directory, if one was made. */
  cleanup(): void;
}

function fromPath(): Tini | null {
  const tini = findExecutable('tini');
  if (!tini) return null;
  return { tini, tiniStatic: findExecutable('tini-static'), version: versionOf(tini), source: 'installed (PATH)', cleanup: () => undefined };
}

/** `apt-get download tini` and `dpkg -x` into a temporary directory. */
function fromPackage(): Tini {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsvisor-bench-tini-'));
  const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    fs.chmodSync(dir, 0o755); // apt's download user must be able to write the .deb there
    execFileSync('apt-get', ['download', '-q', 'tini'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    const deb = fs.readdirSync(dir).find((f) => /^tini_.*\.deb$/.test(f));
    if (!deb) throw new Error('apt-get download left no tini_*.deb');
    const root = path.join(dir, 'root');
    execFileSync('dpkg', ['-x', path.join(dir, deb), root], { stdio: ['ignore', 'pipe', 'pipe'] });
    const file = (name: string) => (fs.existsSync(path.join(root, 'usr', 'bin', name)) ? path.join(root, 'usr', 'bin', name) : null);
    const tini = file('tini');
    return { tini, tiniStatic: file('tini-static'), version: versionOf(tini), source: `Debian package ${deb}, unpacked into a scratch directory`, cleanup };
  } catch (e) {
    cleanup();
    const err = e as Error & { stderr?: Buffer };
    return { tini: null, tiniStatic: null, version: null, source: `tini not found and not downloadable: ${err.stderr?.toString().trim() || err.message}`, cleanup: () => undefined };
  }
}

export function getTini(): Tini {
  return fromPath() ?? fromPackage();
}
