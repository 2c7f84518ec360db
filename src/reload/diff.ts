// Which keys of two normalised definitions differ, as dotted paths: values compared as values, maps in any key order, sets in any order. Pure.

/** Keys whose lists are sets: their order means nothing (namespaces, dependencies, capabilities). */
const SET_KEYS = new Set(['isolate', 'dependsOn', 'capabilities']);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** A value with set-like lists sorted and undefined keys dropped, so equal definitions compare equal. */
function normal(value: unknown, key = ''): Json {
  if (Array.isArray(value)) {
    const items = value.map((v) => normal(v));
    return SET_KEYS.has(key) ? [...items].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))) : items;
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, Json> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = normal(v, k);
    }
    return out;
  }
  return value === undefined ? null : (value as Json);
}

const isMap = (v: Json): v is { [k: string]: Json } => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The dotted paths at which `a` and `b` differ ("resources.memory", "env.PORT", "command"): maps are walked key by
 * key, anything else (lists, numbers, strings) is compared whole.
 */
export function changedKeys(a: unknown, b: unknown, prefix = ''): string[] {
  return walk(normal(a), normal(b), prefix);
}

function walk(a: Json, b: Json, prefix: string): string[] {
  if (isMap(a) && isMap(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => walk(a[k] ?? null, b[k] ?? null, prefix ? `${prefix}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix || '(all)'];
}
