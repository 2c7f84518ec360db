// The seccomp program of a service, compiled for this host and the capabilities it keeps, and handed to nsvisor-init through a pipe.
import * as fs from 'fs';

import { ALL_CAPABILITIES, SeccompChoice } from './protections';
import { addon } from '../native';
import { compileSeccomp, defaultProfile, hostArch, readProfileFile } from '../seccomp';

/** Programs of the default profile by capability set: every service of a supervisor shares a few. */
const compiled = new Map<string, Buffer>();

/**
 * The BPF program for `choice` and the kept capabilities (null: all), or null for none. A profile file is read anew
 * each time (it may have changed); a file that does not parse throws a ConfigError naming its problems.
 */
export function seccompProgram(choice: SeccompChoice, capabilities: readonly string[] | null): Buffer | null {
  if (!choice) return null;
  const caps = capabilities ?? ALL_CAPABILITIES;
  if (choice.kind === 'file') return compileSeccomp(readProfileFile(choice.path), { arch: hostArch(), capabilities: [...caps] });
  const key = [...caps].sort().join(',');
  let program = compiled.get(key);
  if (!program) compiled.set(key, (program = compileSeccomp(defaultProfile(), { arch: hostArch(), capabilities: [...caps] })));
  return program;
}

/** A pipe whose read end holds `program` (written whole: a program is at most 32 KiB, a pipe holds 64); the caller closes the fd. */
export function programFd(program: Buffer): number {
  const [r, w] = addon.pipe();
  try {
    fs.writeSync(w, program);
  } catch (e) {
    fs.closeSync(r);
    throw e;
  } finally {
    fs.closeSync(w);
  }
  return r;
}
