// A small classic-BPF assembler for seccomp filters: the instructions a filter uses, labels, and long jumps where a target is over 255 ahead.

/** struct sock_filter codes (linux/bpf_common.h). */
export const OP = {
  LD_W_ABS: 0x20, // A = 32-bit word at offset k of struct seccomp_data
  AND_K: 0x54, // A &= k
  JA: 0x05, // pc += k (32-bit: reaches anywhere)
  JEQ_K: 0x15, // pc += (A == k) ? jt : jf (8-bit each)
  JGT_K: 0x25, // unsigned A > k
  JGE_K: 0x35, // unsigned A >= k
  JSET_K: 0x45, // (A & k) != 0
  RET_K: 0x06, // return k
} as const;

/** The kernel's limit on a filter's length (BPF_MAXINSNS). */
export const MAX_INSNS = 4096;
/** Bytes of one struct sock_filter {u16 code; u8 jt; u8 jf; u32 k}. */
export const INSN_SIZE = 8;

/** A place in the program that jumps can name; it marks the instruction that follows it. */
export class Label {}

export type Condition = 'JEQ_K' | 'JGT_K' | 'JGE_K' | 'JSET_K';

export type Item =
  | { kind: 'load'; offset: number }
  | { kind: 'and'; k: number }
  | { kind: 'jump'; op: Condition; k: number; yes: Label; no: Label }
  | { kind: 'ret'; k: number }
  | { kind: 'mark'; label: Label };

export const load = (offset: number): Item => ({ kind: 'load', offset });
export const and = (k: number): Item => ({ kind: 'and', k: k >>> 0 });
export const jump = (op: Condition, k: number, yes: Label, no: Label): Item => ({ kind: 'jump', op, k: k >>> 0, yes, no });
export const ret = (k: number): Item => ({ kind: 'ret', k: k >>> 0 });
export const mark = (label: Label): Item => ({ kind: 'mark', label });

type Jump = Extract<Item, { kind: 'jump' }>;
/** Which targets of a conditional jump go through a `ja` right after it, being too far for an 8-bit offset. */
interface Far {
  yes: boolean;
  no: boolean;
}

function size(item: Item, far: Map<Item, Far>): number {
  if (item.kind === 'mark') return 0;
  const f = far.get(item);
  return 1 + (f ? Number(f.yes) + Number(f.no) : 0);
}

/** Where each item and label lands, given which jumps are far. */
function layout(items: Item[], far: Map<Item, Far>): { at: Map<Item, number>; labels: Map<Label, number>; length: number } {
  const at = new Map<Item, number>();
  const labels = new Map<Label, number>();
  let pc = 0;
  for (const item of items) {
    at.set(item, pc);
    if (item.kind === 'mark') labels.set(item.label, pc);
    pc += size(item, far);
  }
  return { at, labels, length: pc };
}

/** Instructions from `from` to `label` (forward only: classic BPF cannot jump back). */
function distance(labels: Map<Label, number>, label: Label, from: number): number {
  const to = labels.get(label);
  if (to === undefined) throw new Error('bpf: jump to a label that is not in the program');
  if (to < from) throw new Error('bpf: backward jump');
  return to - from;
}

/** Encodes the items as struct sock_filter, little endian. A conditional jump whose target is more than 255
    instructions ahead jumps to a `ja` placed right after it; layout repeats until every offset fits. */
export function assemble(items: Item[]): Buffer {
  const jumps = items.filter((i): i is Jump => i.kind === 'jump');
  const far = new Map<Item, Far>();
  let placed = layout(items, far);
  for (let changed = true; changed; ) {
    changed = false;
    for (const j of jumps) {
      const f = far.get(j) ?? { yes: false, no: false };
      const next = placed.at.get(j)! + 1;
      const yes = !f.yes && distance(placed.labels, j.yes, next) > 255;
      const no = !f.no && distance(placed.labels, j.no, next) > 255;
      if (yes || no) {
        far.set(j, { yes: f.yes || yes, no: f.no || no });
        changed = true;
      }
    }
    if (changed) placed = layout(items, far);
  }
  const out = Buffer.alloc(placed.length * INSN_SIZE);
  let pc = 0;
  const put = (code: number, jt: number, jf: number, k: number) => {
    out.writeUInt16LE(code, pc * INSN_SIZE);
    out.writeUInt8(jt, pc * INSN_SIZE + 2);
    out.writeUInt8(jf, pc * INSN_SIZE + 3);
    out.writeUInt32LE(k >>> 0, pc * INSN_SIZE + 4);
    pc++;
  };
  for (const item of items) {
    if (item.kind === 'load') put(OP.LD_W_ABS, 0, 0, item.offset);
    else if (item.kind === 'and') put(OP.AND_K, 0, 0, item.k);
    else if (item.kind === 'ret') put(OP.RET_K, 0, 0, item.k);
    else if (item.kind === 'jump') {
      const f = far.get(item) ?? { yes: false, no: false };
      const next = pc + 1;
      const jt = f.yes ? 0 : distance(placed.labels, item.yes, next);
      const jf = f.no ? Number(f.yes) : distance(placed.labels, item.no, next);
      put(OP[item.op], jt, jf, item.k);
      if (f.yes) put(OP.JA, 0, 0, distance(placed.labels, item.yes, pc + 1));
      if (f.no) put(OP.JA, 0, 0, distance(placed.labels, item.no, pc + 1));
    }
  }
  return out;
}
