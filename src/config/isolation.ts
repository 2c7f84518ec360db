// The service keys that decide how a process is isolated (SPEC section 2), as a zod schema shared by `sandbox` and services.
import * as os from 'os';
import { z } from 'zod';

import { Capability, capabilitySchema } from './capabilities';
import { parseDuration, parseSize } from './units';

export const NAMESPACES = ['pid', 'mount', 'uts', 'ipc', 'net', 'user', 'cgroup', 'time'] as const;
export type Namespace = (typeof NAMESPACES)[number];
export const DEFAULT_ISOLATE: Namespace[] = ['pid', 'mount', 'uts', 'ipc', 'cgroup'];

const signalNames = Object.keys(os.constants.signals);

/** "500ms"-style string checked and turned into milliseconds. */
/** Says what a duration or size looks like when the value is not even a string, but leaves "required" to the caller. */
const expecting = (what: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? undefined : `expected ${what}, got ${JSON.stringify(issue.input)}`;

export const duration = (signed = false) =>
  z.string({ error: expecting(`a duration like ${signed ? '-1h, ' : ''}500ms, 10s, 1m or 1h`) }).transform((text, ctx) => {
    try {
      return parseDuration(text, signed);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
      return z.NEVER;
    }
  }).meta({
    description: signed ? 'a signed duration: -1h, 500ms, 10s, 1m' : 'a duration: 500ms, 10s, 1m, 1h',
    pattern: signed ? '^[+-]?\\d+(\\.\\d+)?(ms|s|m|h)$' : '^\\+?\\d+(\\.\\d+)?(ms|s|m|h)$',
  });

export const size = z.union([z.string(), z.number()], { error: expecting('a size like 256Mi, 1G or 65536') }).transform((v, ctx) => {
  try {
    return parseSize(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
}).meta({ description: 'bytes, or a size with k M G T (powers of 10) or Ki Mi Gi Ti (powers of 2): 256Mi, 1G' });

/** `user`: "uid" or "uid:gid", numbers as the namespaces see them. */
export const USER_IDS = /^\d+(:\d+)?$/;

export const absolutePath = z.string().refine((p) => p.startsWith('/'), { message: 'expected an absolute path' });

/** "inside:outside:count[,inside:outside:count...]" — one line of uid_map/gid_map per range. */
const idMap = z.string().regex(/^\d+:\d+:\d+(,\d+:\d+:\d+)*$/, 'expected inside:outside:count, e.g. 0:100000:65536');

const mount = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('bind'), source: absolutePath, target: absolutePath, readonly: z.boolean().default(false) }),
  z.strictObject({ type: z.literal('tmpfs'), target: absolutePath, size: size.optional(), readonly: z.boolean().default(false) }),
  z.strictObject({ type: z.literal('proc'), target: absolutePath }),
]);

/** A signed duration, or "fromZero": the clock inside starts near 0. */
const timeOffset = z.string({ error: expecting('a duration like -1h, 500ms, 10s, 1m or 1h, or fromZero') }).transform((text, ctx): number | 'fromZero' => {
  if (text === 'fromZero') return text;
  try {
    return parseDuration(text, true);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `${(e as Error).message}, or fromZero` });
    return z.NEVER;
  }
});

const signal = z
  .string()
  .transform((s) => (s.startsWith('SIG') ? s : `SIG${s}`))
  .refine((s) => signalNames.includes(s), { message: 'expected a signal name such as SIGTERM' });

const positiveSize = size.refine((n) => n > 0, { message: 'expected a size above 0' });
const oneTo10000 = 'expected an integer from 1 to 10000';

/** SPEC 2 `resources`: the cgroup limits of a service (sizes in bytes after parsing). */
export const resourcesSchema = z.strictObject({
  memory: positiveSize.optional(),
  memoryHigh: positiveSize.optional(),
  cpus: z.number().positive('expected a positive number of CPUs, e.g. 0.5').optional(),
  cpuWeight: z.number().int(oneTo10000).min(1, oneTo10000).max(10000, oneTo10000).optional(),
  pids: z.number().int('expected a positive number of tasks').positive('expected a positive number of tasks').optional(),
});

/** "all", "default", or a list of capability names each checked where it stands (capabilities[1]: unknown ...). */
const capabilitiesSetting = z.custom<unknown>().transform((v, ctx): 'all' | 'default' | `CAP_${Capability}`[] => {
  if (v === 'all' || v === 'default') return v;
  if (!Array.isArray(v)) {
    ctx.addIssue({ code: 'custom', message: `expected "default", "all" or a list of capabilities like [CAP_NET_BIND_SERVICE], got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  const names: `CAP_${Capability}`[] = [];
  v.forEach((c, i) => {
    const r = capabilitySchema.safeParse(c);
    if (r.success) names.push(r.data);
    else ctx.addIssue({ code: 'custom', path: [i], message: r.error.issues[0].message });
  });
  return names;
}).meta({ description: '"default", "all", or a list of capability names' });

export const isolationShape = {
  command: z.array(z.string()).min(1, 'expected the command and its arguments, e.g. [/usr/bin/python3, -m, http.server]'),
  env: z.record(z.string(), z.string()).default({}),
  cwd: absolutePath.optional(),
  user: z.string().regex(USER_IDS, 'expected uid:gid, e.g. "1000:1000"').optional(),
  isolate: z.array(z.enum(NAMESPACES)).optional(),
  hostname: z.string().min(1).max(64).optional(),
  domainname: z.string().min(1).max(64).optional(),
  userns: z
    .union([z.literal('auto'), z.strictObject({ uidMap: idMap, gidMap: idMap })])
    .optional(),
  rootfs: absolutePath.optional(),
  readonlyRoot: z.boolean().default(false),
  mounts: z.array(mount).default([]),
  propagation: z.enum(['private', 'slave', 'shared']).default('private'),
  time: z.strictObject({ boottime: timeOffset.optional(), monotonic: timeOffset.optional() }).optional(),
  resources: resourcesSchema.optional(),
  /**
   * The capabilities the main process keeps: "default" (the 14 of Docker's default set), "all", or a list (kept in
   * the bounding, permitted and effective sets, and raised as ambient for a user that is not root).
   */
  capabilities: capabilitiesSetting
    .default('default')
    .describe('"default" (the 14 of Docker\'s default set), "all", or the list kept ([] = none)'),
  /** PR_SET_NO_NEW_PRIVS for the main process: setuid and file capabilities no longer raise privileges. */
  noNewPrivileges: z.boolean().default(false),
  seccomp: z
    .string()
    .refine((s) => s === 'default' || s === 'unconfined' || s.startsWith('/'), { message: 'expected "default", "unconfined" or the absolute path of an OCI/Docker seccomp profile (JSON)' })
    .default('default')
    .describe('"default" (modelled on Docker\'s default profile), "unconfined", or /path/profile.json (OCI/Docker seccomp JSON)'),
  /** Every protection off: all capabilities, no seccomp filter, the host's /dev, /proc unmasked, /sys and the cgroup file systems writable. */
  privileged: z.boolean().default(false).describe('true = all capabilities, no seccomp, the host\'s /dev, /proc unmasked, writable /sys and cgroup file systems'),
  devices: z
    .array(z.string().regex(/^\/dev\/[^\0]+$/, 'expected a device under /dev, e.g. /dev/fuse'))
    .default([])
    .describe('host devices to pass into the service\'s own /dev, e.g. [/dev/fuse, /dev/net/tun]'),
  stop: z
    .strictObject({ signal: signal.default('SIGTERM'), timeout: duration().default(10_000), drain: duration().default(5_000) })
    .default({ signal: 'SIGTERM', timeout: 10_000, drain: 5_000 }),
};

export const isolationSchema = z.strictObject(isolationShape);
/** What the user writes. */
export type IsolationInput = z.input<typeof isolationSchema>;
/** After validation: durations in ms, sizes in bytes, defaults filled. */
export type Isolation = z.output<typeof isolationSchema>;
