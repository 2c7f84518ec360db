// Compiles a seccomp profile for one architecture and capability set into the classic BPF program the kernel installs.
import { actionValue, ENOSYS, letsThrough } from './actions';
import { archInfo, hostKernel } from './arch';
import { and, assemble, INSN_SIZE, Item, jump, Label, load, mark, MAX_INSNS, ret } from './bpf';
import type { ArgCondition, SeccompProfile } from './profile';
import { Alternative, rulesByNumber, Target } from './select';

export interface CompileOptions extends Omit<Target, 'kernel'> {
  /** [major, minor] for the profile's `minKernel` conditions; default: the running kernel. */
  kernel?: [number, number];
}

/** What a call from another ABI gets (i386 or x32 on x86_64, arm on aarch64): its numbers mean other calls. */
export const FOREIGN_ACTION = actionValue({ kind: 'killProcess' });

/** struct seccomp_data: nr, arch, then args[i] as two 32-bit halves, low first (both targets are little endian). */
const NR = 0;
const ARCH = 4;
const argLow = (i: number) => 16 + 8 * i;
const argHigh = (i: number) => 20 + 8 * i;

/** Numbers first..last decided alike: one return value, or the alternatives of one call. */
type Segment = { first: number; last: number; ret: number } | { first: number; last: number; alternatives: Alternative[]; otherwise: number };

/** The whole 32-bit range of seccomp_data.nr in segments: each call with rules, runs of calls alike merged. */
function segmentsOf(byNr: Map<number, Alternative[]>, highest: number, fallback: number, unknown: number): Segment[] {
  const out: Segment[] = [];
  const add = (nr: number, last: number, value: number) => {
    const prev = out[out.length - 1];
    if (prev && 'ret' in prev && prev.ret === value) prev.last = last;
    else out.push({ first: nr, last, ret: value });
  };
  for (let nr = 0; nr <= highest; nr++) {
    const alternatives = byNr.get(nr);
    if (!alternatives) add(nr, nr, fallback);
    else if (alternatives[0].conditions.length === 0) add(nr, nr, actionValue(alternatives[0].action));
    else out.push({ first: nr, last: nr, alternatives, otherwise: fallback });
  }
  add(highest + 1, 0xffffffff, unknown);
  return out;
}

const hi = (v: bigint) => Number(v >> 32n);
const lo = (v: bigint) => Number(v & 0xffffffffn);

/** Code that falls through when `c` holds and jumps to `fail` when not, comparing the high halves first. */
function condition(c: ArgCondition, fail: Label): Item[] {
  const pass = new Label();
  const low = new Label();
  const H = load(argHigh(c.index));
  const L = load(argLow(c.index));
  switch (c.op) {
    case 'SCMP_CMP_EQ':
      return [H, jump('JEQ_K', hi(c.value), low, fail), mark(low), L, jump('JEQ_K', lo(c.value), pass, fail), mark(pass)];
    case 'SCMP_CMP_NE':
      return [H, jump('JEQ_K', hi(c.value), low, pass), mark(low), L, jump('JEQ_K', lo(c.value), fail, pass), mark(pass)];
    case 'SCMP_CMP_MASKED_EQ':
      return [
        H, and(hi(c.value)), jump('JEQ_K', hi(c.valueTwo), low, fail), mark(low),
        L, and(lo(c.value)), jump('JEQ_K', lo(c.valueTwo), pass, fail), mark(pass),
      ];
    case 'SCMP_CMP_GT':
    case 'SCMP_CMP_GE': {
      const equal = new Label();
      const last = c.op === 'SCMP_CMP_GT' ? 'JGT_K' : 'JGE_K';
      return [H, jump('JGT_K', hi(c.value), pass, equal), mark(equal), jump('JEQ_K', hi(c.value), low, fail), mark(low),
        L, jump(last, lo(c.value), pass, fail), mark(pass)];
    }
    case 'SCMP_CMP_LT':
    case 'SCMP_CMP_LE': {
      const notAbove = new Label();
      const last = c.op === 'SCMP_CMP_LT' ? 'JGE_K' : 'JGT_K';
      return [H, jump('JGT_K', hi(c.value), fail, notAbove), mark(notAbove), jump('JEQ_K', hi(c.value), low, pass), mark(low),
        L, jump(last, lo(c.value), fail, pass), mark(pass)];
    }
  }
}

/** A segment's code: its return, or each alternative's conditions then its action, and `otherwise` last. */
function leaf(s: Segment): Item[] {
  if ('ret' in s) return [ret(s.ret)];
  const items: Item[] = [];
  for (const alt of s.alternatives) {
    const next = new Label();
    for (const c of alt.conditions) items.push(...condition(c, next));
    items.push(ret(actionValue(alt.action)), mark(next));
  }
  items.push(ret(s.otherwise));
  return items;
}

/** A binary search on seccomp_data.nr (already in A) over sorted, adjoining segments. */
function search(segments: Segment[]): Item[] {
  if (segments.length === 1) return leaf(segments[0]);
  const mid = segments.length >> 1;
  const low = new Label();
  const high = new Label();
  return [jump('JGE_K', segments[mid].first, high, low), mark(low), ...search(segments.slice(0, mid)), mark(high), ...search(segments.slice(mid))];
}

/** The filter for `profile` on opts.arch with opts.capabilities kept: struct sock_filter[] as the kernel takes it.
    Order of checks: the architecture (another ABI gets FOREIGN_ACTION; on x86_64 that includes x32, whose numbers
    carry bit 30), then the call: the first rule that holds decides; a call the table has but no rule names gets the
    default action; numbers above the table's highest (calls newer than it) get ENOSYS, so that libc falls back to
    an older call, unless the default action lets calls through anyway. */
export function compileSeccomp(profile: SeccompProfile, opts: CompileOptions): Buffer {
  const info = archInfo(opts.arch);
  const byNr = rulesByNumber(profile, { ...opts, kernel: opts.kernel ?? hostKernel() });
  const fallback = actionValue(profile.defaultAction);
  const unknown = letsThrough(profile.defaultAction) ? fallback : actionValue({ kind: 'errno', errno: ENOSYS });
  const native = new Label();
  const foreign = new Label();
  const call = new Label();
  const items: Item[] = [load(ARCH), jump('JEQ_K', info.auditArch, native, foreign), mark(foreign), ret(FOREIGN_ACTION), mark(native), load(NR)];
  if (info.otherAbiBit) {
    const marked = new Label();
    const otherAbi = new Label();
    // nr -1 is no call (a tracer skipping one): it goes on like any number the table lacks.
    items.push(jump('JSET_K', info.otherAbiBit, marked, call), mark(marked), jump('JEQ_K', 0xffffffff, call, otherAbi), mark(otherAbi), ret(FOREIGN_ACTION));
  }
  items.push(mark(call), ...search(segmentsOf(byNr, info.highest, fallback, unknown)));
  const program = assemble(items);
  const length = program.length / INSN_SIZE;
  if (length > MAX_INSNS) {
    throw new Error(`seccomp: the filter for ${opts.arch} needs ${length} BPF instructions; the kernel takes at most ${MAX_INSNS} (fewer rules with argument conditions would fit)`);
  }
  return program;
}
