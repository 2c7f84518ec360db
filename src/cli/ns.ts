// The `nsvisor ns [PID|NAME] [--json]` command: namespaces as lsns lists them, with their ioctl_ns(2) relations.
import { Command } from 'commander';

import { formatJson, formatTable } from '../ns/format';
import { procSource } from '../ns/proc';
import { namespacesOfPid, listNamespaces } from '../ns/scan';
import { call } from '../control/client';
import { parseTarget, NsTarget } from '../ns/target';
import { NsEntry, NsSource } from '../ns/types';
import { CliError, UsageError } from './errors';
import { resolveSocket, SocketFlags, withSocketOptions } from './socket-option';

const HELP_AFTER = `
Without an argument every namespace of the host is listed, one line each, as
lsns does; with a PID only the namespaces of that process (all types), each
still with its process count across the host. A NAME is a service of the
running supervisor (\`nsvisor run\`).

Columns (and --json keys):
  NS       inode of the namespace                               (inode)
  TYPE     cgroup, ipc, mnt, net, pid, time, user or uts        (type)
  NPROCS   processes in it                                      (nprocs)
  PID      lowest pid in it, the sample process                 (pid)
  USER     owner of the sample process                          (user)
  USERNS   inode of the owning user namespace (NS_GET_USERNS)   (userns)
  PARENT   inode of the parent namespace, pid and user only     (parent)
  OWNER    uid that created it, user namespaces only            (ownerUid)
  COMMAND  command line of the sample process                   (command)
"-" (null in JSON) where a relation does not apply or lies outside our
reach (an ancestor namespace of our own, for instance).

Exit status: 0 ok, 1 failed (no such process), 2 usage, 3 supervisor not reachable.

Examples:
  nsvisor ns
  nsvisor ns 4242 --json
  nsvisor ns web
`;

function parseOrUsage(arg: string | undefined): NsTarget {
  try {
    return parseTarget(arg);
  } catch (err) {
    throw new UsageError(`ns: ${(err as Error).message}`);
  }
}

function ofPid(source: NsSource, pid: number): NsEntry[] {
  try {
    return namespacesOfPid(source, pid);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') throw new CliError(`ns ${pid}: no process with pid ${pid}`, 1);
    if (code === 'EACCES' || code === 'EPERM')
      throw new CliError(`ns ${pid}: cannot read /proc/${pid}/ns: permission denied`, 1);
    throw err;
  }
}

/** The host pid of a service's nsvisor-init, asked of the running supervisor. */
async function servicePid(name: string, flags: SocketFlags): Promise<number> {
  const s = await call(await resolveSocket(flags), 'GET', `/v1/status/${encodeURIComponent(name)}`);
  if (s.pid === null) throw new CliError(`ns ${name}: the service is not running (state ${s.state})`, 1);
  return s.pid;
}

/** The rows for a target; exported for tests that bring their own source. */
export async function entriesFor(target: NsTarget, source: NsSource, flags: SocketFlags = {}): Promise<NsEntry[]> {
  switch (target.kind) {
    case 'all':
      return listNamespaces(source);
    case 'pid':
      return ofPid(source, target.pid);
    case 'name':
      return ofPid(source, await servicePid(target.name, flags));
  }
}

export function register(program: Command): void {
  withSocketOptions(program
    .command('ns')
    .description('list namespaces as lsns does, with their relations from ioctl_ns(2): owning user namespace, parent, owner uid')
    .argument('[PID|NAME]', 'a process id, or the name of a service of the running supervisor')
    .option('--json', 'print a JSON array of objects instead of the table')
    .addHelpText('after', HELP_AFTER))
    .action(async (arg: string | undefined, opts: SocketFlags & { json?: boolean }) => {
      const entries = await entriesFor(parseOrUsage(arg), procSource(), opts);
      process.stdout.write(opts.json ? formatJson(entries) : formatTable(entries));
    });
}
