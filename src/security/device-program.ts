// The device allow-list as an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE, for a cgroup v2 (the v2 form of the v1 devices controller). Pure.
import type { DeviceRule } from './device-rules';

/** BPF_DEVCG_DEV_* (include/uapi/linux/bpf.h): the low 16 bits of bpf_cgroup_dev_ctx.access_type. */
export const DEV_TYPE = { b: 1, c: 2 } as const;
/** BPF_DEVCG_ACC_*: the high 16 bits of access_type, one bit per kind of access asked for. */
export const DEV_ACCESS = { m: 1, r: 2, w: 4 } as const;

/** The opcodes the program uses (class | operation | source). */
export const OP = {
  /** r_dst = *(u32 *)(r_src + off) */
  loadWord: 0x61,
  /** w_dst &= imm */
  and32: 0x54,
  /** w_dst >>= imm */
  rsh32: 0x74,
  /** w_dst = w_src */
  mov32Reg: 0xbc,
  /** r_dst = imm */
  mov64: 0xb7,
  /** if (w_dst != imm) pc += off: a 32-bit compare, so a major above 2^31 is not sign-extended. */
  jne32: 0x56,
  exit: 0x95,
} as const;

export interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

const insn = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({ code, dst, src, off, imm });

/** The registers after the prologue: the type, the access asked for, the major, the minor. */
const R = { ctx: 1, type: 2, access: 3, major: 4, minor: 5, scratch: 1 } as const;

function accessMask(access: string): number {
  let m = 0;
  for (const ch of access) m |= DEV_ACCESS[ch as keyof typeof DEV_ACCESS] ?? 0;
  return m;
}

/** One rule's tests, each a jump past the rest of the block when it does not match, then "allow". */
function ruleBlock(rule: DeviceRule): Insn[] {
  const tests: Insn[][] = [];
  if (rule.type !== 'a') tests.push([insn(OP.jne32, R.type, 0, 0, DEV_TYPE[rule.type])]);
  const denied = ~accessMask(rule.access) & 7;
  if (denied) tests.push([insn(OP.mov32Reg, R.scratch, R.access, 0, 0), insn(OP.and32, R.scratch, 0, 0, denied), insn(OP.jne32, R.scratch, 0, 0, 0)]);
  if (rule.major !== null) tests.push([insn(OP.jne32, R.major, 0, 0, rule.major | 0)]);
  if (rule.minor !== null) tests.push([insn(OP.jne32, R.minor, 0, 0, rule.minor | 0)]);
  const block = [...tests.flat(), insn(OP.mov64, 0, 0, 0, 1), insn(OP.exit, 0, 0, 0, 0)];
  // Each jump lands just past the block: its offset counts the instructions after it.
  block.forEach((ins, i) => {
    if (ins.code === OP.jne32) ins.off = block.length - i - 1;
  });
  return block;
}

/** The program's instructions: read the context, then each rule in order (the first that matches allows), else deny. */
export function deviceProgramInsns(rules: readonly DeviceRule[]): Insn[] {
  const prologue = [
    insn(OP.loadWord, R.type, R.ctx, 0, 0),
    insn(OP.and32, R.type, 0, 0, 0xffff),
    insn(OP.loadWord, R.access, R.ctx, 0, 0),
    insn(OP.rsh32, R.access, 0, 0, 16),
    insn(OP.loadWord, R.major, R.ctx, 4, 0),
    insn(OP.loadWord, R.minor, R.ctx, 8, 0),
  ];
  return [...prologue, ...rules.flatMap(ruleBlock), insn(OP.mov64, 0, 0, 0, 0), insn(OP.exit, 0, 0, 0, 0)];
}

/** struct bpf_insn as the kernel reads it on a little-endian machine (x86_64, aarch64): code, dst|src<<4, off, imm. */
export function encodeInsns(insns: readonly Insn[]): Buffer {
  const out = Buffer.alloc(insns.length * 8);
  insns.forEach((ins, i) => {
    out.writeUInt8(ins.code, i * 8);
    out.writeUInt8((ins.src << 4) | ins.dst, i * 8 + 1);
    out.writeInt16LE(ins.off, i * 8 + 2);
    out.writeInt32LE(ins.imm | 0, i * 8 + 4);
  });
  return out;
}

export function deviceProgram(rules: readonly DeviceRule[]): Buffer {
  return encodeInsns(deviceProgramInsns(rules));
}
