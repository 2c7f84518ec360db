// `nsvisor check [-c FILE]`: validate a configuration and print every problem with its path (exit 2), or "ok" (exit 0).
import { Command } from 'commander';

import { ConfigError } from '../config/issues';
import { loadConfigSource, problemReport, resolveConfigSource, sourceName } from '../config/load';

/** The report `check` prints for a source, and its exit code; callable from tests without a process. */
export async function checkSource(file?: string): Promise<{ output: string; exitCode: number }> {
  const source = resolveConfigSource(file);
  const name = sourceName(source);
  try {
    const config = await loadConfigSource(source);
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
    .description('validate a configuration file and list every problem with its path')
    .option('-c, --config <file>', 'the configuration to check (default: ./nsvisor.yaml, else the built-in demo)')
    .addHelpText(
      'after',
      `
Prints "FILE: ok (N services)" and exits 0, or "FILE: N problems" followed by one
line per problem, each naming the key it is about, and exits 2:

  nsvisor.yaml: 2 problems
  services.web.resources.memory: expected a size like 256Mi, 1G or 65536, got "lots"
  services.web.dependsOn[0]: unknown service "dbb"; did you mean "db"?

Examples:
  nsvisor check                      # ./nsvisor.yaml, or the built-in demo
  nsvisor check -c /etc/nsvisor.yaml`,
    )
    .action(async (flags: { config?: string }) => {
      const { output, exitCode } = await checkSource(flags.config);
      process.stdout.write(output);
      process.exitCode = exitCode;
    });
}
