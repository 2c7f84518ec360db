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

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Whether `a` and `b` are the same definition, as changedKeys() would find no key changed, without building copies (the common case of a reload). */
export function sameValue(a: unknown, b: unknown, key = ''): boolean {
  if (a === b) return true;
  // Validated configurations come out of one schema with their keys in one order: equal ones serialize alike
  // (natively, and fast); written differently (a map's keys, a set's order), the walk below decides.
  if (key === '' && JSON.stringify(a) === JSON.stringify(b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    if (SET_KEYS.has(key)) return changedKeys(a, b).length === 0;
    return a.every((x, i) => sameValue(x, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    // Every defined key of a equal in b, and b with no more defined keys than that.
    let defined = 0;
    for (const k in a) {
      if (a[k] === undefined) continue;
      defined++;
      if (!sameValue(a[k], b[k] ?? null, k)) return false;
    }
    for (const k in b) if (b[k] !== undefined) defined--;
    return defined === 0;
  }
  return (a ?? null) === (b ?? null);
}

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
