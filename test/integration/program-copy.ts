// A copy of the built nsvisor program (bin, dist/src, the addon and nsvisor-init, package.json) in a scratch dir, for tests that change or break it.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { repoRoot } from './helpers';

export interface ProgramCopy {
  dir: string;
  /** Its bin/nsvisor. */
  bin: string;
  /** Its version as package.json says (what `--version` prints). */
  version(): string;
  setVersion(version: string): void;
  /** A path inside the copy. */
  at(rel: string): string;
  remove(): void;
}

const PARTS = ['package.json', 'bin', 'dist/src', 'schema', 'build/Release/nsvisor.node', 'build/Release/nsvisor-init'];

export function copyProgram(): ProgramCopy {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsvisor-program-'));
  for (const part of PARTS) fs.cpSync(path.join(repoRoot, part), path.join(dir, part), { recursive: true, dereference: true });
  // The dependencies are not the program being changed: the copy uses the checkout's.
  fs.symlinkSync(fs.realpathSync(path.join(repoRoot, 'node_modules')), path.join(dir, 'node_modules'));
  fs.chmodSync(dir, 0o755);
  const at = (rel: string) => path.join(dir, rel);
  const pkg = () => JSON.parse(fs.readFileSync(at('package.json'), 'utf8'));
  return {
    dir,
    bin: at('bin/nsvisor'),
    at,
    version: () => pkg().version,
    setVersion: (version) => fs.writeFileSync(at('package.json'), `${JSON.stringify({ ...pkg(), version }, null, 2)}\n`),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
