// Which device nodes a hardened service may open (Docker's default allow-list plus its `devices`), as rules and as v1 devices.allow lines. Pure.

/** One rule of the device allow-list: a type, a major and minor (null for any), and the access it grants. */
export interface DeviceRule {
  type: 'c' | 'b' | 'a';
  major: number | null;
  minor: number | null;
  /** A subset of "rwm": read, write, mknod. */
  access: string;
}

/** A device node of the host passed in by `devices`, with its numbers. */
export interface DeviceNode {
  path: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
}

const rw = (type: 'c', major: number, minor: number | null): DeviceRule => ({ type, major, minor, access: 'rwm' });

/**
 * What every hardened service may open: the character devices of its own /dev (null, zero, full, random, urandom,
 * tty), /dev/ptmx and its own pseudo-terminals. Creating any node stays allowed (mknod, as Docker allows it); opening
 * one is what the rules decide.
 */
export const DEFAULT_DEVICE_RULES: readonly DeviceRule[] = [
  { type: 'c', major: null, minor: null, access: 'm' },
  { type: 'b', major: null, minor: null, access: 'm' },
  rw('c', 1, 3), rw('c', 1, 5), rw('c', 1, 7), rw('c', 1, 8), rw('c', 1, 9), rw('c', 5, 0), rw('c', 5, 2), rw('c', 136, null),
];

/** The allow-list of a service: the defaults, then each of its `devices` with every access. */
export function deviceRules(nodes: readonly DeviceNode[]): DeviceRule[] {
  return [...DEFAULT_DEVICE_RULES, ...nodes.map((n) => ({ type: n.type, major: n.major, minor: n.minor, access: 'rwm' }))];
}

/** A rule as the v1 devices controller's devices.allow takes it: "c 1:3 rwm", "b *:* m". */
export function v1Line(rule: DeviceRule): string {
  const n = (x: number | null) => (x === null ? '*' : String(x));
  return rule.type === 'a' ? `a *:* ${rule.access}` : `${rule.type} ${n(rule.major)}:${n(rule.minor)} ${rule.access}`;
}

/** Major and minor of a dev_t as Node's fs.Stats.rdev gives it (glibc's encoding: 12+20 bits of major, 8+24 of minor). */
export function splitDev(rdev: number): { major: number; minor: number } {
  const lo = rdev % 2 ** 32;
  const hi = Math.floor(rdev / 2 ** 32);
  const major = ((lo >>> 8) & 0xfff) | (hi & 0xfffff000);
  const minor = (lo & 0xff) | ((lo >>> 12) & 0xfff00) | ((hi & 0xfff) << 20);
  return { major: major >>> 0, minor: minor >>> 0 };
}
