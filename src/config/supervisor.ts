// The zod schema of the `supervisor` section (SPEC section 2) and the default control socket path.
import { z } from 'zod';

import { HostPort, parseHostPort } from './addresses';
import { defaultControlPath } from './control-path';
import { absolutePath, duration } from './isolation';

export { defaultControlPath };

export const DEFAULT_METRICS = '127.0.0.1:9753';

const metrics = z
  .string()
  .default(DEFAULT_METRICS)
  .transform((text, ctx): HostPort | null => {
    if (text === 'off') return null;
    const hp = parseHostPort(text);
    if (hp) return hp;
    ctx.addIssue({ code: 'custom', message: `expected host:port such as ${DEFAULT_METRICS}, or "off", got ${JSON.stringify(text)}` });
    return z.NEVER;
  });

export const supervisorSchema = z
  .strictObject({
    metrics: metrics.describe('Prometheus endpoint (/metrics) as host:port, or "off"'),
    control: absolutePath.optional().describe('control socket (mode 0600); default /run/nsvisor/nsvisor.sock, or $XDG_RUNTIME_DIR/nsvisor/nsvisor.sock rootless'),
    cgroupRoot: z
      .string()
      .refine((s) => s === 'self' || s.startsWith('/'), { message: 'expected a path like /nsvisor, or "self"' })
      .default('/nsvisor')
      .describe('cgroup under which each service gets its own, per hierarchy; "self" = the supervisor\'s own (delegated) cgroup'),
    logDir: z
      .string()
      .refine((s) => s === '-' || s.startsWith('/'), { message: 'expected an absolute directory, or "-" for standard output' })
      .default('/var/log/nsvisor')
      .describe('directory of the services\' log files; "-" = the supervisor\'s stdout, each line prefixed "NAME | "'),
    shutdownTimeout: duration().default(60_000).describe('bound on stopping every service at shutdown'),
    adoptTimeout: duration()
      .default(30_000)
      .describe('how long services outlive a supervisor that died, for a new one to adopt them; then they stop; 0 = they end with it'),
  })
  .transform((s) => ({ ...s, control: s.control ?? defaultControlPath() }));
