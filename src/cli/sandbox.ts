// `nsvisor sandbox [OPTIONS] -- CMD`: one command in new namespaces under nsvisor-init, exiting with its status.
import { Command, Option } from 'commander';
import * as os from 'os';

import { NAMESPACES } from '../config/isolation';
import { ConfigError } from '../config/issues';
import { describeSeccompDeath } from '../launch/seccomp-death';
import { IsolatedProcess } from '../process/isolated-process';
import { sandbox, SandboxOptions } from '../sandbox';
import { SpecError } from '../spawn-plan/plan';
import { CliError, UsageError } from './errors';

/** Signals a terminal or a process manager sends us, passed on to nsvisor-init (which passes them to CMD). */
const FORWARDED: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

const collect = (value: string, previous: string[]) => [...previous, value];

interface Flags {
  isolate?: string;
  hostname?: string;
  domainname?: string;
  rootfs?: string;
  readonlyRoot?: boolean;
  bind: string[];
  tmpfs: string[];
  user?: string;
  mapRoot?: boolean;
  uidMap?: string;
  gidMap?: string;
  boottime?: string;
  monotonic?: string;
  net?: string;
  subnet?: string;
  address?: string;
  propagation?: 'private' | 'slave' | 'shared';
  env: string[];
  cwd?: string;
  drain?: string;
  memory?: string;
  cpus?: string;
  pids?: string;
  cgroupRoot?: string;
  caps?: string;
  seccomp?: string;
  privileged?: boolean;
  device: string[];
  /** Commander's reading of --no-new-privs: false when given. */
  newPrivs?: boolean;
}

function positiveNumber(flag: string, text: string, integer: boolean): number {
  const n = Number(text);
  if (!(n > 0) || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new UsageError(`${flag} ${text}: expected a positive ${integer ? 'whole ' : ''}number`);
  }
  return n;
}

function parseBind(spec: string) {
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 3 || (parts[2] !== undefined && parts[2] !== 'ro' && parts[2] !== 'rw')) {
    throw new UsageError(`--bind ${spec}: expected SRC:DST or SRC:DST:ro`);
  }
  return { type: 'bind' as const, source: parts[0], target: parts[1], readonly: parts[2] === 'ro' };
}

function parseEnv(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const kv of pairs) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`--env ${kv}: expected KEY=VALUE`);
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return env;
}

/** Command-line flags -> the service keys of SPEC section 2. */
export function optionsFromFlags(flags: Flags, command: string[]): SandboxOptions {
  const isolate = flags.isolate?.split(',').map((s) => s.trim()).filter(Boolean) as SandboxOptions['isolate'];
  const opts: SandboxOptions = {
    command,
    isolate,
    hostname: flags.hostname,
    domainname: flags.domainname,
    rootfs: flags.rootfs,
    readonlyRoot: flags.readonlyRoot ?? false,
    mounts: [...flags.bind.map(parseBind), ...flags.tmpfs.map((target) => ({ type: 'tmpfs' as const, target }))],
    user: flags.user,
    mapRoot: flags.mapRoot,
    propagation: flags.propagation,
    env: parseEnv(flags.env),
    cwd: flags.cwd,
    baseEnv: process.env,
  };
  if (flags.uidMap || flags.gidMap) {
    if (!flags.uidMap || !flags.gidMap) throw new UsageError('--uid-map and --gid-map go together');
    opts.userns = { uidMap: flags.uidMap, gidMap: flags.gidMap };
  }
  if (flags.boottime || flags.monotonic) opts.time = { boottime: flags.boottime, monotonic: flags.monotonic };
  if (flags.net !== undefined) {
    if (flags.net !== 'none') {
      if (!/^[A-Za-z][A-Za-z0-9_.-]{0,14}$/.test(flags.net)) throw new UsageError(`--net ${flags.net}: expected none or a bridge name of at most 15 letters, digits, "_", "-" or "."`);
      opts.net = { bridge: flags.net, subnet: flags.subnet, address: flags.address };
    }
    opts.isolate = [...new Set([...(opts.isolate ?? ['pid', 'mount', 'uts', 'ipc', 'cgroup']), 'net' as const])];
  }
  if ((flags.subnet || flags.address) && !opts.net) throw new UsageError('--subnet and --address need --net BRIDGE');
  if (flags.drain) opts.stop = { drain: flags.drain };
  if (flags.memory || flags.cpus || flags.pids) {
    opts.resources = {
      memory: flags.memory,
      cpus: flags.cpus === undefined ? undefined : positiveNumber('--cpus', flags.cpus, false),
      pids: flags.pids === undefined ? undefined : positiveNumber('--pids', flags.pids, true),
    };
  }
  if (flags.cgroupRoot) opts.cgroupRoot = flags.cgroupRoot;
  if (flags.caps !== undefined) {
    opts.capabilities = flags.caps === 'all' || flags.caps === 'default' ? flags.caps : flags.caps.split(',').map((c) => c.trim()).filter(Boolean);
  }
  if (flags.newPrivs === false) opts.noNewPrivileges = true;
  if (flags.seccomp !== undefined) opts.seccomp = flags.seccomp;
  if (flags.device.length) opts.devices = flags.device;
  if (flags.privileged) {
    const clash = [flags.caps !== undefined && '--caps', flags.seccomp !== undefined && '--seccomp', flags.device.length > 0 && '--device'].filter(Boolean);
    if (clash.length) throw new UsageError(`--privileged keeps every capability, no filter and the host's /dev: ${clash.join(', ')} would have no effect`);
    opts.privileged = true;
  }
  return opts;
}

async function run(command: string[], flags: Flags): Promise<void> {
  if (command.length === 0) throw new UsageError('sandbox: missing the command to run (nsvisor sandbox [OPTIONS] -- CMD [ARG...])');
  const opts = optionsFromFlags(flags, command);
  let proc: IsolatedProcess | undefined;
  // A signal that comes before the command has started is delivered as soon as it has, not lost.
  const early: NodeJS.Signals[] = [];
  const forward = (sig: NodeJS.Signals) => (proc ? proc.kill(sig) : early.push(sig));
  for (const sig of FORWARDED) process.on(sig, forward);
  try {
    const r = await sandbox({
      ...opts,
      onStart: (p) => {
        proc = p;
        for (const sig of early.splice(0)) p.kill(sig);
      },
    });
    if (r.reason === 'spawn_failed') throw new CliError(r.error ?? 'spawn failed', r.code ?? 125);
    if (r.reason === 'oom_killed') process.stderr.write(`nsvisor: the OOM killer ended a process of the sandbox${flags.memory ? ` (--memory ${flags.memory})` : ''}\n`);
    if (r.seccomp) process.stderr.write(`nsvisor: ${command[0]}: ${describeSeccompDeath(r.seccomp)}\n`);
    process.exitCode = r.code ?? 128 + os.constants.signals[r.signal as NodeJS.Signals];
  } catch (e) {
    if (e instanceof ConfigError || e instanceof SpecError) throw new CliError(e.message, 125);
    throw e;
  } finally {
    for (const sig of FORWARDED) process.off(sig, forward);
  }
}

export function register(program: Command): void {
  program
    .command('sandbox')
    .description('run CMD in new namespaces under nsvisor-init as PID 1, wait, and exit with its status')
    .usage('[OPTIONS] -- CMD [ARG...]')
    .argument('[command...]', 'the command and its arguments, after --')
    .option('--isolate <list>', `namespaces to create, comma-separated from ${NAMESPACES.join(',')}`, 'pid,mount,uts,ipc,cgroup')
    .option('--hostname <name>', 'hostname inside (needs uts; default "sandbox")')
    .option('--domainname <name>', 'NIS domain name inside (needs uts)')
    .option('--rootfs <dir>', 'pivot_root into DIR; the old root is detached')
    .option('--readonly-root', 'make the root mount read-only')
    .option('--bind <src:dst[:ro]>', 'bind-mount host SRC at DST (repeatable)', collect, [])
    .option('--tmpfs <dst>', 'mount a fresh tmpfs at DST (repeatable)', collect, [])
    .addOption(new Option('--propagation <mode>', 'propagation of / inside').choices(['private', 'slave', 'shared']))
    .option('--user <uid:gid>', 'ids of CMD inside the namespaces')
    .option('--map-root', 'new user namespace with the caller mapped to root (works unprivileged)')
    .option('--uid-map <in:out:count>', 'new user namespace with this uid map (with --gid-map)')
    .option('--gid-map <in:out:count>', 'gid map for --uid-map')
    .option('--boottime <offset>', 'boot clock offset in a new time namespace: e.g. -1h, 30s, or fromZero')
    .option('--monotonic <offset>', 'monotonic clock offset in a new time namespace')
    .option('--net <none|bridge>', 'new network namespace: only lo up (none), or also eth0 on a veth to BRIDGE (created if absent)')
    .option('--subnet <cidr>', 'subnet of a bridge --net creates; the bridge gets the first address (default 10.88.0.0/24)')
    .option('--address <ip>', 'address of eth0 with --net BRIDGE (default: the next free one)')
    .option('--caps <list>', 'capabilities CMD keeps: default (the 14 of Docker\'s default set), all, or a comma-separated list (CAP_NET_BIND_SERVICE or net_bind_service; "" = none)')
    .option('--seccomp <profile>', 'the seccomp filter: default (modelled on Docker\'s), unconfined, or the path of an OCI/Docker seccomp profile (JSON)')
    .option('--device <path>', 'pass a host device into the sandbox\'s own /dev, e.g. /dev/fuse (repeatable)', collect, [])
    .option('--privileged', "turn every protection off: all capabilities, no seccomp filter, the host's /dev, /proc unmasked, /sys and the cgroup file systems writable")
    .option('--no-new-privs', 'set no_new_privs: setuid programs and file capabilities raise nothing')
    .option('--env <K=V>', 'set a variable for CMD (repeatable; the rest of the environment is inherited)', collect, [])
    .option('--cwd <dir>', 'working directory inside (default: the current one, or / with --rootfs)')
    .option('--memory <size>', 'memory limit of the sandbox\'s cgroup, e.g. 256Mi (OOM kill: reason oom_killed)')
    .option('--cpus <n>', 'CPU time limit in CPUs, e.g. 0.5')
    .option('--pids <n>', 'limit on the number of tasks')
    .option('--cgroup-root <path>', 'cgroup root the sandbox\'s cgroup goes under (default $NSVISOR_CGROUP_ROOT or /nsvisor)')
    .option('--drain <duration>', 'after CMD exits, how long what is left may take to stop (default 5s)')
    .addHelpText(
      'after',
      `
By default CMD is protected as every service is: as root it keeps the 14 capabilities of Docker's default
set, a seccomp filter modelled on Docker's refuses what a service has no business doing (EPERM; ENOSYS for
calls newer than it knows), /proc's sensitive files are masked and its tunables read-only, /sys is read-only,
/sys/fs/cgroup shows only its own cgroup (read-only), and with a mount namespace it gets a /dev of its own.
--privileged turns all of that off (nsvisor's behaviour before these defaults).

Exit status: CMD's; 128+N if it was killed by signal N; 127 CMD not found, 126 not executable;
125 when nsvisor failed before CMD started (the message names the step and errno).

Examples:
  nsvisor sandbox -- sh -c 'echo $$; hostname'           # prints 2 and "sandbox"
  nsvisor sandbox --map-root --net none -- id             # works without root
  nsvisor sandbox --rootfs /srv/alpine --bind /data:/data:ro -- /bin/sh
  nsvisor sandbox --boottime fromZero -- cat /proc/uptime
  nsvisor sandbox --memory 64Mi --cpus 0.5 --pids 64 -- sh -c 'cat /proc/self/cgroup'
  nsvisor sandbox --user 1000:1000 --caps net_bind_service --no-new-privs -- python3 -m http.server 80
  nsvisor sandbox --device /dev/fuse --caps default,sys_admin -- sshfs host:/srv /mnt
  nsvisor sandbox --privileged -- mount -t tmpfs none /mnt     # every protection off`,
    )
    .action(async (command: string[], flags: Flags) => {
      const isolate = flags.isolate?.split(',').filter((n) => n && !(NAMESPACES as readonly string[]).includes(n));
      if (isolate?.length) throw new UsageError(`--isolate: unknown namespace "${isolate[0]}" (known: ${NAMESPACES.join(', ')})`);
      await run(command, flags);
    });
}
