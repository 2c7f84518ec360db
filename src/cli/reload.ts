// `nsvisor reload [-c FILE] [--dry-run] [--json]`: apply a changed configuration to the running supervisor with the smallest change.
import { Command } from 'commander';
import * as path from 'path';

import { call } from '../control/client';
import type { ReloadResult } from '../reload/reloader';
import { planLines } from '../reload/show';
import { CliError } from './errors';
import { controlOfFile } from './socket-option';

/** What `reload` prints for a result, and its exit code (SPEC 1: 0 applied or planned, 2 invalid, 1 a step failed). */
export function reloadReport(r: ReloadResult): { text: string; exitCode: number } {
  if (r.status === 'invalid') {
    const n = r.problems.length;
    return { text: `${r.file ?? 'reload'}: ${n} problem${n === 1 ? '' : 's'}; nothing was changed\n${r.problems.map((p) => `  ${p}\n`).join('')}`, exitCode: 2 };
  }
  const lines = planLines(r.plan);
  const head = `${r.file}: ${r.status === 'planned' ? 'the plan (--dry-run: nothing applied)' : 'reloaded'}\n`;
  if (r.status === 'planned') return { text: head + lines.map((l) => `  ${l}\n`).join(''), exitCode: 0 };
  const steps = r.steps.map((s) => `  ${s.target}: ${s.action}: ${s.ok ? 'done' : `FAILED: ${s.error}`}\n`).join('');
  if (r.status === 'applied') return { text: r.steps.length ? head + steps : `${r.file}: nothing changed\n`, exitCode: 0 };
  const rest = r.notApplied.length ? `not applied:\n${r.notApplied.map((s) => `  ${s}\n`).join('')}` : '';
  return { text: `${r.file}: the reload failed at a step; what came before it was applied\n${steps}${rest}`, exitCode: 1 };
}

export function register(program: Command): void {
  program
    .command('reload')
    .description('apply a changed configuration to the running supervisor with the smallest change: print the plan, then apply it')
    .option('-c, --config <file>', 'the new configuration (default: the file the supervisor was started with, read again)')
    .option('--dry-run', 'print the plan and apply nothing')
    .option('--json', 'print the result as JSON')
    .option('--socket <path>', 'control socket of the supervisor (default: the one the file names, else the default path)')
    .addHelpText(
      'after',
      `
Each service is compared with its running definition (defaults filled in, key order and units ignored):
  unchanged   not touched at all: same pids, no signal
  update      in place: resources (new limits written to the running cgroups), restart, stop,
              ready.timeout, dependsOn
  replace     anything else: new instances beside the old ones, the old stopped once the new are
              ready (with listen sockets), else stop, then start; dependencies first
  add/remove  started in dependency order / stopped in reverse, series and sockets dropped
supervisor.metrics may change (rebound); control, cgroupRoot and logDir may not.
An invalid file changes nothing. SIGHUP to nsvisor run reloads its file too.
Exit status: 0 applied (or planned), 2 invalid (nothing changed), 1 a step failed (what came
before it stays applied), 3 no supervisor.`,
    )
    .action(async (flags: { config?: string; dryRun?: boolean; json?: boolean; socket?: string }) => {
      const file = flags.config === undefined ? null : path.resolve(flags.config);
      const socket = flags.socket ?? controlOfFile(file);
      const query = new URLSearchParams({ ...(file ? { file } : {}), ...(flags.dryRun ? { dryRun: '1' } : {}) });
      const result: ReloadResult = await call(socket, 'POST', `/v1/reload?${query}`);
      const { text, exitCode } = reloadReport(result);
      process.stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : text);
      if (exitCode !== 0) throw new CliError(exitCode === 2 ? 'the configuration is invalid; nothing was changed' : 'the reload failed at a step', exitCode);
    });
}
