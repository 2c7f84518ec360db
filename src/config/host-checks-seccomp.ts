// Host checks of `seccomp: PATH`: the profile file must be there, parse, and compile for this machine, as the launch will do it.
import { compileSeccomp, hostArch, readProfileFile } from '../seccomp';
import { ALL_CAPABILITIES, protectionsOf } from '../security/protections';
import type { HostFacts, HostProblem } from './host-checks-facts';
import { ConfigError } from './issues';
import type { ServiceConfig } from './schema';

/** Each problem of the service's seccomp profile file, at `services.NAME.seccomp`, with the file named once: "FILE: syscalls[0].names[1]: ...". */
export function seccompProblems(name: string, svc: ServiceConfig, host: HostFacts): HostProblem[] {
  const { seccomp, capabilities } = protectionsOf(svc);
  if (seccomp?.kind !== 'file') return [];
  const file = seccomp.path;
  const problem = (message: string): HostProblem => ({ service: name, path: `services.${name}.seccomp`, message, permanent: true });
  try {
    const profile = readProfileFile(file, (f) => host.readText(f));
    compileSeccomp(profile, { arch: hostArch(), capabilities: [...(capabilities ?? ALL_CAPABILITIES)] });
    return [];
  } catch (e) {
    const prefix = `seccomp (${file}): `;
    if (e instanceof ConfigError) return e.problems.map((p) => problem(`${file}: ${p.startsWith(prefix) ? p.slice(prefix.length) : p}`));
    return [problem(`${file}: ${(e as Error).message.replace(/^seccomp: /, '')}`)];
  }
}
