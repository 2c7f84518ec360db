// The zod schema of one service (SPEC section 2): the isolation keys plus resources, network, listen, restart, ready, dependsOn.
import { z } from 'zod';

import { parseListen, parseIPv4, ListenAddress } from './addresses';
import { duration, isolationShape, resourcesSchema } from './isolation';

export const SERVICE_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const NETWORK_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,14}$/;

export const serviceName = z
  .string()
  .regex(SERVICE_NAME, 'expected a service name of a-z, 0-9, "_" and "-", starting with a letter or digit, at most 63 characters');

export const networkName = z
  .string()
  .regex(NETWORK_NAME, 'expected a bridge name of at most 15 letters, digits, "_", "-" or ".", starting with a letter');

const network = z.strictObject({
  attach: z.string().optional(),
  address: z
    .string()
    .refine((a) => parseIPv4(a) !== null, { message: 'expected an IPv4 address like 10.88.0.10' })
    .optional(),
  device: z.string().min(1).max(15, 'expected an interface name of at most 15 characters').optional(),
});

const listen = z.string().transform((text, ctx): ListenAddress => {
  const parsed = parseListen(text);
  if (parsed) return parsed;
  ctx.addIssue({ code: 'custom', message: `expected tcp://HOST:PORT or unix:///PATH, got ${JSON.stringify(text)}` });
  return z.NEVER;
});

const restart = z.strictObject({
  policy: z.enum(['always', 'on-failure', 'never']).default('on-failure'),
  delay: duration().default(100),
  maxDelay: duration().default(30_000),
  resetAfter: duration().default(10_000),
});

export const READY_KINDS = ['notify', 'tcp', 'http', 'exec'] as const;

export type ReadyCheck =
  | { type: 'notify'; timeout: number }
  | { type: 'tcp'; port: number; timeout: number }
  | { type: 'http'; url: string; timeout: number }
  | { type: 'exec'; command: string[]; timeout: number };


/** The probes a ready check and a health check share: a TCP connect, an HTTP 2xx, a command that exits 0. */
const probeFields = {
  tcp: z.number().int('expected a port number 1-65535').min(1, 'expected a port number 1-65535').max(65535, 'expected a port number 1-65535').optional(),
  http: z
    .string()
    .refine((u) => /^https?:\/\/[^/\s]+/.test(u) && URL.canParse(u), { message: 'expected an http:// or https:// URL' })
    .optional(),
  exec: z.array(z.string()).min(1, 'expected the command and its arguments, e.g. [/bin/check]').optional(),
};

export type Probe = { type: 'tcp'; port: number } | { type: 'http'; url: string } | { type: 'exec'; command: string[] };

/** Exactly one of `kinds` given, or an issue saying which were; the one given, else null. */
function oneOf<K extends string>(r: Record<string, unknown>, kinds: readonly K[], ctx: z.core.$RefinementCtx<unknown>): K | null {
  const given = kinds.filter((k) => r[k] !== undefined && r[k] !== false);
  if (given.length === 1) return given[0];
  const got = given.length ? `; got ${given.join(' and ')}` : '';
  ctx.addIssue({ code: 'custom', message: `expected exactly one of ${kinds.join(', ')}${got}` });
  return null;
}

function probeOf(r: { tcp?: number; http?: string; exec?: string[] }, kind: 'tcp' | 'http' | 'exec'): Probe {
  if (kind === 'tcp') return { type: 'tcp', port: r.tcp! };
  if (kind === 'http') return { type: 'http', url: r.http! };
  return { type: 'exec', command: r.exec! };
}

const ready = z
  .strictObject({ notify: z.boolean().optional(), ...probeFields, timeout: duration().default(30_000) })
  .transform((r, ctx): ReadyCheck => {
    const kind = oneOf(r, READY_KINDS, ctx);
    if (kind === null) return z.NEVER;
    return kind === 'notify' ? { type: 'notify', timeout: r.timeout } : { ...probeOf(r, kind), timeout: r.timeout };
  });

export const HEALTH_KINDS = ['tcp', 'http', 'exec', 'watchdog'] as const;

/** Liveness once ready (SPEC 2 `health`): a probe every `interval`, or WATCHDOG=1 pings at least every `watchdog` ms. */
export type HealthCheck = (Probe | { type: 'watchdog'; watchdog: number }) & { interval: number; timeout: number; failures: number; startPeriod: number };

const health = z
  .strictObject({
    ...probeFields,
    watchdog: duration().optional(),
    interval: duration().default(10_000),
    timeout: duration().default(2_000),
    failures: z.number().int('expected a whole number of failures, 1 or more').min(1, 'expected a whole number of failures, 1 or more').default(3),
    startPeriod: duration().default(0),
  })
  .transform((r, ctx): HealthCheck => {
    const kind = oneOf(r, HEALTH_KINDS, ctx);
    if (kind === null) return z.NEVER;
    const { interval, timeout, failures, startPeriod } = r;
    const check = kind === 'watchdog' ? { type: 'watchdog' as const, watchdog: r.watchdog! } : probeOf(r, kind);
    return { ...check, interval, timeout, failures, startPeriod };
  });

export const serviceSchema = z.strictObject({
  ...isolationShape,
  resources: resourcesSchema.prefault({}),
  network: network.optional().describe('needs "net" in isolate: attach to a declared network, or move in a host device'),
  listen: z.array(listen).default([]).describe('sockets the supervisor holds and passes (LISTEN_FDS): tcp://HOST:PORT or unix:///PATH'),
  restart: restart.prefault({}),
  ready: ready.optional().describe('when the service counts as ready: exactly one of notify, tcp, http, exec'),
  health: health.optional().describe('liveness once ready: exactly one of tcp, http, exec, watchdog; after `failures` failures in a row the instance is replaced'),
  dependsOn: z.array(z.string()).default([]).describe('services to start (and be ready) before this one, and to stop after it'),
  instances: z
    .number()
    .int('expected a whole number of instances, 1 or more')
    .min(1, 'expected a whole number of instances, 1 or more')
    .max(1000, 'expected at most 1000 instances')
    .default(1)
    .describe('copies of the service side by side, each with its own namespaces and cgroup (NAME, NAME.1, ...), sharing its listen sockets; NSVISOR_INSTANCE=K when more than one'),
});
