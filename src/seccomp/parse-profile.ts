// Reads an OCI/Docker seccomp JSON profile into the profile model; every problem is reported with its path in the file.
import * as fs from 'fs';
import { z } from 'zod';

import { CAPABILITIES, capabilityName } from '../config/capabilities';
import { ConfigError, describeIssues, suggest } from '../config/issues';
import { ACTION_NAMES, ACTIONS_WITH_RET } from './actions';
import { KNOWN_SYSCALL_NAMES, OCI_ARCHES, PROFILE_ARCH_NAMES } from './arch';
import { JsonSyntaxError, parseJson } from './json-text';
import { COMPARE_OPS, SeccompProfile, SeccompRule } from './profile';

const NOTIFY = 'SCMP_ACT_NOTIFY';
const NO_AGENT = 'is not supported: nsvisor has no seccomp agent to notify';
const FLAGS = ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'];

/** A message for a value of the wrong type, or "required" when it is missing. */
const expecting = (what: string) => (issue: { input?: unknown }) => (issue.input === undefined ? 'required' : `expected ${what}`);
const list = <T extends z.ZodType>(of: T, what: string) => z.array(of, { error: expecting(`a list of ${what}`) });
const object = <S extends z.core.$ZodLooseShape>(shape: S, what: string) => z.strictObject(shape, { error: expecting(what) });

/** A string out of `known`; `refused` names values that are understood but not supported, with why; anything else
    is `unknown KIND "x"`, with the close name when there is one. */
function oneOf<T extends string>(kind: string, known: readonly T[], refused: Record<string, string> = {}) {
  return z.string({ error: expecting(`${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} name`) }).transform((s, ctx): T => {
    if ((known as readonly string[]).includes(s)) return s as T;
    const hint = suggest(s, [...known, ...Object.keys(refused)]);
    ctx.addIssue({ code: 'custom', message: refused[s] ?? `unknown ${kind} "${s}"${hint ? `; did you mean "${hint}"?` : ''}` });
    return z.NEVER;
  });
}

const unsigned = (what: string, max: bigint) =>
  z.bigint({ error: expecting(what) }).min(0n, `expected ${what}`).max(max, `expected ${what}`);

const errnoRet = unsigned('an errno from 0 to 4095', 4095n).transform(Number);
const action = oneOf('action', Object.keys(ACTION_NAMES), { [NOTIFY]: `${NOTIFY} ${NO_AGENT}` });
const ociArch = oneOf('architecture', OCI_ARCHES);
const flag = oneOf('flag', [], Object.fromEntries(FLAGS.map((f) => [f, `${f} is not supported: nsvisor-init installs the filter with no flags`])));
const noListener = z.never({ error: `a listener for ${NOTIFY} ${NO_AGENT}` }).optional();

const syscallName = z.string({ error: expecting('a system call name') }).superRefine((name, ctx) => {
  if (KNOWN_SYSCALL_NAMES.has(name)) return;
  const hint = suggest(name, [...KNOWN_SYSCALL_NAMES]);
  ctx.addIssue({ code: 'custom', message: `unknown syscall "${name}"${hint ? `; did you mean "${hint}"?` : ''}` });
});

const capability = z.string({ error: expecting('a capability name') }).transform((s, ctx) => {
  const name = capabilityName(s);
  if (name) return name;
  const hint = suggest(s.toUpperCase().replace(/^CAP_/, ''), [...CAPABILITIES]);
  ctx.addIssue({ code: 'custom', message: `unknown capability "${s}"${hint ? `; did you mean "CAP_${hint}"?` : ''}` });
  return z.NEVER;
});

const kernelVersion = z.string({ error: expecting('a kernel version such as "5.12"') }).transform((s, ctx): [number, number] => {
  const m = /^(\d+)\.(\d+)$/.exec(s);
  if (m && (m[1] !== '0' || m[2] !== '0')) return [Number(m[1]), Number(m[2])];
  ctx.addIssue({ code: 'custom', message: `expected a kernel version such as "5.12", got "${s}"` });
  return z.NEVER;
});

const filter = object(
  { caps: list(capability, 'capabilities').optional(), arches: list(oneOf('architecture', PROFILE_ARCH_NAMES), 'architectures').optional(), minKernel: kernelVersion.optional() },
  'an object with caps, arches or minKernel',
);

const arg = object(
  {
    index: unsigned('an argument index from 0 to 5', 5n).transform(Number),
    value: unsigned('an unsigned 64-bit integer', 0xffffffffffffffffn),
    valueTwo: unsigned('an unsigned 64-bit integer', 0xffffffffffffffffn).default(0n),
    op: oneOf('operator', COMPARE_OPS),
  },
  'an object with index, value and op',
);

const rule = object(
  {
    names: list(syscallName, 'system call names').optional(),
    name: syscallName.optional(),
    action,
    errnoRet: errnoRet.optional(),
    args: list(arg, 'argument conditions').nullable().optional(),
    comment: z.string({ error: expecting('a string') }).optional(),
    includes: filter.optional(),
    excludes: filter.optional(),
  },
  'an object with names and action',
).superRefine(
  // Run even when other parts of the rule are wrong: a missing name is worth saying at once.
  (r, ctx) => {
    if (r.names === undefined && r.name === undefined) ctx.addIssue({ code: 'custom', path: ['names'], message: 'required' });
    if (r.names !== undefined && r.name !== undefined) ctx.addIssue({ code: 'custom', path: ['name'], message: 'give names or name, not both' });
  },
  { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
).superRefine((r, ctx) => {
  if (r.errnoRet !== undefined && !ACTIONS_WITH_RET.includes(r.action)) {
    ctx.addIssue({ code: 'custom', path: ['errnoRet'], message: `only ${ACTIONS_WITH_RET.join(' and ')} take errnoRet, not ${r.action}` });
  }
});

const profileSchema = z
  .strictObject({
    defaultAction: action,
    defaultErrnoRet: errnoRet.optional(),
    architectures: list(ociArch, 'architectures').nullable().optional(),
    archMap: list(object({ architecture: ociArch, subArchitectures: list(ociArch, 'architectures').nullable().optional() }, 'an object with architecture and subArchitectures'), 'architectures')
      .nullable()
      .optional(),
    flags: list(flag, 'flags').nullable().optional(),
    listenerPath: noListener,
    listenerMetadata: noListener,
    syscalls: list(rule, 'rules').nullable().optional(),
  })
  .superRefine((p, ctx) => {
    if (p.architectures?.length && p.archMap?.length) ctx.addIssue({ code: 'custom', path: ['archMap'], message: 'give architectures or archMap, not both' });
    if (p.defaultErrnoRet !== undefined && !ACTIONS_WITH_RET.includes(p.defaultAction)) {
      ctx.addIssue({ code: 'custom', path: ['defaultErrnoRet'], message: `only ${ACTIONS_WITH_RET.join(' and ')} take an errno, not ${p.defaultAction}` });
    }
  });

type Parsed = z.output<typeof profileSchema>;

function toModel(p: Parsed): SeccompProfile {
  const architectures = p.architectures ?? (p.archMap ?? []).flatMap((a) => [a.architecture, ...(a.subArchitectures ?? [])]);
  const rules = (p.syscalls ?? []).map(
    (r): SeccompRule => ({
      names: r.names ?? [r.name!],
      action: ACTION_NAMES[r.action](r.errnoRet),
      args: (r.args ?? []).map((a) => ({ index: a.index, value: a.value, valueTwo: a.valueTwo, op: a.op })),
      includes: r.includes,
      excludes: r.excludes,
    }),
  );
  return { defaultAction: ACTION_NAMES[p.defaultAction](p.defaultErrnoRet), architectures: [...new Set(architectures)], rules };
}

/** Checks profile text (`file` names it in messages) and returns the model; throws a ConfigError with one line per problem,
    `seccomp (FILE): syscalls[3].names[1]: unknown syscall "mkdirat2"; did you mean "mkdirat"?`. A name that is a call on
    some Linux architecture is accepted even where this one lacks it (it is then skipped, as libseccomp does); a name
    that is a call on none is a typo and an error. */
export function parseProfileJson(text: string, file: string): SeccompProfile {
  const where = `seccomp (${file})`;
  let data: unknown;
  try {
    data = parseJson(text);
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw new ConfigError([`${where}: invalid JSON at ${e.message}`]);
    throw e;
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ConfigError([`${where}: expected a JSON object with defaultAction and syscalls`]);
  }
  const r = profileSchema.safeParse(data);
  if (!r.success) throw new ConfigError(describeIssues(profileSchema, r.error.issues).map((line) => `${where}: ${line}`));
  return toModel(r.data);
}

/** Reads and checks a profile file (through `read`, which throws as fs.readFileSync does); a file that cannot be read is a ConfigError too. */
export function readProfileFile(file: string, read: (file: string) => string = (f) => fs.readFileSync(f, 'utf8')): SeccompProfile {
  let text: string;
  try {
    text = read(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message;
    throw new ConfigError([`seccomp (${file}): cannot read: ${why}`]);
  }
  return parseProfileJson(text, file);
}
