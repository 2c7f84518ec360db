// Durations ("500ms", "-1h") and sizes ("256Mi", "1G") as the configuration writes them (SPEC section 2).

const DURATION = /^([+-]?)(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a duration; `signed` allows a leading minus (time offsets). Throws a message for the user. */
export function parseDuration(text: string, signed = false): number {
  const m = DURATION.exec(text.trim());
  if (!m || (m[1] === '-' && !signed)) {
    throw new Error(`expected a duration like ${signed ? '-1h, ' : ''}500ms, 10s, 1m or 1h, got ${JSON.stringify(text)}`);
  }
  const ms = Number(m[2]) * DURATION_MS[m[3]];
  return m[1] === '-' ? -ms : ms;
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(|k|M|G|T|Ki|Mi|Gi|Ti)$/;
const SIZE_UNIT: Record<string, number> = {
  '': 1,
  k: 1e3, M: 1e6, G: 1e9, T: 1e12,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40,
};

/** Bytes of a size: a plain number of bytes, or with k M G T (powers of 10) or Ki Mi Gi Ti (powers of 2). */
export function parseSize(text: string | number): number {
  if (typeof text === 'number' && Number.isInteger(text) && text >= 0) return text;
  const m = SIZE.exec(String(text).trim());
  if (!m) throw new Error(`expected a size like 256Mi, 1G or 65536, got ${JSON.stringify(text)}`);
  return Math.round(Number(m[1]) * SIZE_UNIT[m[2]]);
}

/** Splits signed milliseconds into whole seconds and non-negative nanoseconds, as timens_offsets wants. */
export function toSecNsec(ms: number): { sec: number; nsec: number } {
  const sec = Math.floor(ms / 1000);
  return { sec, nsec: Math.round((ms - sec * 1000) * 1e6) };
}
