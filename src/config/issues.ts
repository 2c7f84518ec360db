// Turns zod's validation issues into one line each: the key's path, what was expected, and a suggestion for a mistyped key.
import type { z } from 'zod';

/** A configuration that failed validation; `problems` has one line per issue. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length];
}

/** The known key closest to `key`, when it is close enough to be a typo. */
export function suggest(key: string, known: string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = distance(key.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best !== null && bestDistance <= Math.max(1, Math.floor(key.length / 3)) ? best : null;
}

function pathText(prefix: string, path: PropertyKey[]): string {
  let out = prefix;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(top level)';
}

/** The object schemas `s` stands for: itself, or each object option of a union (mounts are one per type). */
function objectsOf(s: any): any[] {
  while (s?.def?.innerType || s?.def?.in) s = s.def.innerType ?? s.def.in;
  if (s?.def?.type === 'object') return [s];
  if (s?.def?.type === 'union') return s.def.options.flatMap(objectsOf);
  return [];
}

/** Known keys of the object schema at `path` inside `schema`, for suggestions. */
function knownKeysAt(schema: z.ZodType, path: PropertyKey[]): string[] {
  let s: any = schema;
  for (const p of path) {
    while (s?.def?.innerType || s?.def?.in) s = s.def.innerType ?? s.def.in;
    if (s?.def?.type === 'array') s = s.def.element;
    else if (s?.def?.type === 'record') s = s.def.valueType;
    else if (typeof p === 'string') s = objectsOf(s).find((o) => p in o.def.shape)?.def.shape[p];
    else return [];
  }
  return [...new Set(objectsOf(s).flatMap((o) => Object.keys(o.def.shape)))];
}

export function describeIssues(schema: z.ZodType, issues: z.core.$ZodIssue[], prefix = ''): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(schema, issue.path);
      for (const key of issue.keys) {
        const hint = suggest(key, known);
        lines.push(`${pathText(prefix, [...issue.path, key])}: unknown key${hint ? `; did you mean "${hint}"?` : ''}`);
      }
    } else if (issue.code === 'invalid_key') {
      // A record key (a service or network name) that does not fit: say why, not just "Invalid key".
      lines.push(`${pathText(prefix, issue.path)}: ${issue.issues.map((i) => i.message).join('; ')}`);
    } else {
      lines.push(`${pathText(prefix, issue.path)}: ${issue.message}`);
    }
  }
  return lines;
}

/** Validates `input` or throws a ConfigError listing every problem. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, prefix = ''): z.output<S> {
  const r = schema.safeParse(input);
  if (!r.success) throw new ConfigError(describeIssues(schema, r.error.issues, prefix));
  return r.data;
}
