// `nsvisor check [-c FILE] [--schema-only]`: validate a configuration, then what this host can do of it; every problem with its path (exit 2), or "ok" (exit 0).
import { Command } from 'commander';

import { HostFacts, hostProblems, problemLine } from '../config/host-checks';
import { ConfigError } from '../config/issues';
import { loadConfigSource, problemReport, resolveConfigSource, sourceName } from '../config/load';
import { realHostFacts } from '../process/host-context';

export interface CheckOptions {
  /** Validate against the schema only, not against this host. */
  schemaOnly?: boolean;
  /** The host to check against; default this machine. */
  host?: HostFacts;
}

/** The report `check` prints for a source, and its exit code; callable from tests without a process. */
export async function checkSource(file?: string, opts: CheckOptions = {}): Promise<{ output: string; exitCode: number }> {
  const source = resolveConfigSource(file);
  const name = sourceName(source);
  try {
    const config = await loadConfigSource(source);
    const problems = opts.schemaOnly ? [] : hostProblems(config, opts.host ?? realHostFacts());
    if (problems.length) return { output: problemReport(name, problems.map(problemLine)), exitCode: 2 };
    const n = Object.keys(config.services).length;
    return { output: `${name}: ok (${n} service${n === 1 ? '' : 's'})\n`, exitCode: 0 };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return { output: problemReport(name, e.problems), exitCode: 2 };
  }
}

export function register(program: Command): void {
  program
    .command('check')
    .description('validate a configuration file, and what this host can do of it; list every problem with its path')
    .option('-c, --config <file>', 'the configuration to check (default: ./nsvisor.yaml, else the built-in demo)')
    .option('--schema-only', 'check the file against the schema only, not against this host')
    .addHelpText(
      'after',
      `
First the file against the schema; when that is valid, against this host: limits
its cgroup layout cannot have, mount sources and targets, commands that do not
resolve or cannot run (inside the rootfs when there is one), users a user
namespace does not map, mounts hiding the notify socket or a unix listen path,
fixed addresses another nsvisor has leased, devices that are not there, and
listen or metrics ports another process has bound.

Prints "FILE: ok (N services)" and exits 0, or "FILE: N problems" followed by one
line per problem, each naming the key it is about, and exits 2:

  nsvisor.yaml: 2 problems
  services.web.resources.memory: expected a size like 256Mi, 1G or 65536, got "lots"
  services.web.dependsOn[0]: unknown service "dbb"; did you mean "db"?

  nsvisor.yaml: 1 problem
  services.db.resources.memoryHigh: this host's memory controller is cgroup v1, which has no memory.high; remove memoryHigh (memory, the hard limit, works on v1)

Examples:
  nsvisor check                      # ./nsvisor.yaml, or the built-in demo
  nsvisor check -c /etc/nsvisor.yaml
  nsvisor check -c app.yaml --schema-only   # for another machine`,
    )
    .action(async (flags: { config?: string; schemaOnly?: boolean }) => {
      const { output, exitCode } = await checkSource(flags.config, { schemaOnly: flags.schemaOnly });
      process.stdout.write(output);
      process.exitCode = exitCode;
    });
}
