// The whole configuration file (SPEC section 2) as one zod schema, its output types, and validation with every problem listed.
import { z } from 'zod';

import { parseSubnet } from './addresses';
import { checkConfig } from './checks';
import { DEFAULT_ISOLATE, Namespace } from './isolation';
import { ConfigError, describeIssues } from './issues';
import { networkName, serviceName, serviceSchema } from './service';
import { supervisorSchema } from './supervisor';

export { dependencyOrder } from './order';
export type { ReadyCheck } from './service';
export type { HostPort, ListenAddress } from './addresses';

const networkSchema = z.strictObject({
  subnet: z.string().superRefine((text, ctx) => {
    try {
      parseSubnet(text);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
    }
  }),
  nat: z.boolean().default(false),
});

/** The file as written: what the JSON Schema for editors describes. */
export const configInputSchema = z.strictObject({
  supervisor: supervisorSchema.prefault({}).describe('settings of the supervisor itself'),
  networks: z.record(networkName, networkSchema).default({}).describe('Linux bridges services can attach to; the gateway is the first address'),
  services: z.record(serviceName, serviceSchema).refine((s) => Object.keys(s).length > 0, { message: 'expected at least one service' })
    .describe('the services to supervise, by name'),
});

/** Fills what follows from other keys: "user" in isolate with userns, the hostname from the service name. */
function complete(config: z.output<typeof configInputSchema>) {
  const services = Object.fromEntries(
    Object.entries(config.services).map(([name, svc]) => {
      const isolate = new Set<Namespace>(svc.isolate ?? DEFAULT_ISOLATE);
      if (svc.userns) isolate.add('user');
      const hostname = svc.hostname ?? (isolate.has('uts') ? name : undefined);
      return [name, { ...svc, isolate: [...isolate], hostname }];
    }),
  );
  return { ...config, services };
}

export const configSchema = configInputSchema.superRefine(checkConfig, { when: () => true }).transform(complete);

/** A valid configuration: durations in milliseconds, sizes in bytes, defaults filled. */
export type Config = z.output<typeof configSchema>;
export type ServiceConfig = Config['services'][string];
export type SupervisorConfig = Config['supervisor'];
export type NetworkConfig = Config['networks'][string];
/** The configuration as a file or a program writes it. */
export type ConfigInput = z.input<typeof configSchema>;

const TYPE_NAMES: Record<string, string> = { object: 'a map of keys', array: 'a list', string: 'a string', number: 'a number', boolean: 'true or false' };

function shown(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a map';
  return JSON.stringify(input);
}

/** Plainer words than zod's defaults for a missing key and a value of the wrong type. */
const plainErrors: z.core.$ZodErrorMap = (issue) => {
  if (issue.code !== 'invalid_type') return undefined;
  if (issue.input === undefined) return 'required';
  return `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}, got ${shown(issue.input)}`;
};

/** Validates a parsed file (or an object a program built); throws a ConfigError listing every problem. */
export function validateConfig(input: unknown): Config {
  const r = configSchema.safeParse(input, { error: plainErrors });
  if (!r.success) throw new ConfigError(describeIssues(configSchema, r.error.issues));
  return r.data;
}
