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
const FOREIGN_ACTION = actionValue({ kind: 'killProcess' });

/** struct seccomp_data: nr, arch, then args[i] as two 32-bit halves, low first (both targets are little endian). */
const NR = 0;
const ARCH = 4;
const argLow = (i: number) => 16 + 8 * i;
const argHigh = (i: number) => 20 + 8 * i;

/** The numbers from `first` up to the next segment's first, decided alike: one return value, or the alternatives of one call. */
type Segment = { first: number; ret: number } | { first: number; alternatives: Alternative[]; otherwise: number };

/** The whole 32-bit range of seccomp_data.nr in segments: each call with conditions alone, runs of calls alike merged. */
function segmentsOf(byNr: Map<number, Alternative[]>, highest: number, fallback: number, unknown: number): Segment[] {
  const out: Segment[] = [];
  const add = (first: number, value: number) => {
    const prev = out[out.length - 1];
    if (!prev || !('ret' in prev) || prev.ret !== value) out.push({ first, ret: value });
  };
  for (let nr = 0; nr <= highest; nr++) {
    const alternatives = byNr.get(nr);
    if (!alternatives) add(nr, fallback);
    else if (alternatives[0].conditions.length === 0) add(nr, actionValue(alternatives[0].action));
    else out.push({ first: nr, alternatives, otherwise: fallback });
  }
  add(highest + 1, unknown);
  return out;
}

const hi = (v: bigint) => Number(v >> 32n);
const lo = (v: bigint) => Number(v & 0xffffffffn);

/** args[i] (& mask) == value, on the two halves: to `yes` when it holds, else to `no`. */
function equal(c: ArgCondition, value: bigint, mask: bigint | null, yes: Label, no: Label): Item[] {
  const low = new Label();
  const masked = (half: (v: bigint) => number) => (mask === null ? [] : [and(half(mask))]);
  return [
    load(argHigh(c.index)), ...masked(hi), jump('JEQ_K', hi(value), low, no), mark(low),
    load(argLow(c.index)), ...masked(lo), jump('JEQ_K', lo(value), yes, no),
  ];
}

/** args[i] > c.value (>= with orEqual), unsigned: the high halves decide unless equal, then the low ones. */
function greater(c: ArgCondition, orEqual: boolean, yes: Label, no: Label): Item[] {
  const notAbove = new Label();
  const low = new Label();
  return [
    load(argHigh(c.index)), jump('JGT_K', hi(c.value), yes, notAbove), mark(notAbove), jump('JEQ_K', hi(c.value), low, no), mark(low),
    load(argLow(c.index)), jump(orEqual ? 'JGE_K' : 'JGT_K', lo(c.value), yes, no),
  ];
}

/** Code that falls through when `c` holds and jumps to `fail` when not. */
function condition(c: ArgCondition, fail: Label): Item[] {
  const pass = new Label();
  const test: Record<ArgCondition['op'], () => Item[]> = {
    SCMP_CMP_EQ: () => equal(c, c.value, null, pass, fail),
    SCMP_CMP_NE: () => equal(c, c.value, null, fail, pass),
    SCMP_CMP_MASKED_EQ: () => equal(c, c.valueTwo, c.value, pass, fail),
    SCMP_CMP_GT: () => greater(c, false, pass, fail),
    SCMP_CMP_GE: () => greater(c, true, pass, fail),
    SCMP_CMP_LT: () => greater(c, true, fail, pass),
    SCMP_CMP_LE: () => greater(c, false, fail, pass),
  };
  return [...test[c.op](), mark(pass)];
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
