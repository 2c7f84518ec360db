// `nsvisor exec NAME -- CMD`: run CMD inside a running service's namespaces, with this terminal, exiting with CMD's status.
import { Command } from 'commander';
import * as fs from 'fs';

import { USER_IDS } from '../config/isolation';
import { call } from '../control/client';
import { addon, initPath } from '../native';
import { identityArgs } from '../spawn-plan/plan';
import type { ServiceStatus } from '../control/status';
import { CliError, UsageError } from './errors';
import { resolveSocket, SocketFlags, withSocketOptions } from './socket-option';

/** The service's environment, as its nsvisor-init was given it. */
function environOf(pid: number): string[] {
  return fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
}

export function register(program: Command): void {
  withSocketOptions(
    program
      .command('exec')
      .description("run CMD inside a running service's namespaces (as nsenter or docker exec), with the service's environment")
      .usage('NAME [--] CMD [ARG...]')
      .argument('<name>', 'the service')
      .argument('[command...]', 'the command and its arguments')
      .option('-u, --user <uid:gid>', "run CMD with these ids instead of the service's user (its capabilities and no_new_privs still apply)"),
  ).action(async (name: string, command: string[], flags: SocketFlags & { user?: string }) => {
    if (flags.user !== undefined && !USER_IDS.test(flags.user)) throw new UsageError(`--user ${flags.user}: expected uid or uid:gid, e.g. 0:0`);
    if (command.length === 0) throw new UsageError('exec: missing the command to run (nsvisor exec NAME -- CMD)');
    const s: ServiceStatus = await call(await resolveSocket(flags), 'GET', `/v1/status/${encodeURIComponent(name)}`);
    if (s.initPid === null) throw new CliError(`${name} is not running (state ${s.state})`, 1);
    // Into the service's cgroup first (its limits apply to CMD too), then nsvisor-init enters every namespace of
    // the service's init through a pidfd and runs CMD as its child, as the service's user, with its capabilities.
    for (const file of s.cgroupProcs) fs.writeFileSync(file, String(process.pid));
    const identity = identityArgs({ user: flags.user ?? s.user ?? undefined, capabilities: s.capabilities ?? undefined, noNewPrivileges: s.noNewPrivileges });
    addon.execve(initPath, ['nsvisor-init', '--join', String(s.initPid), '--drain', '0', ...identity, '--', ...command], environOf(s.initPid));
  });
}
