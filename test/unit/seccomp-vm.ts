// A classic-BPF interpreter for the unit tests: checks a seccomp program as the kernel does, then runs it on (arch, nr, args).
import { OP } from '../../src/seccomp/bpf';

export const AUDIT_ARCH = { x86_64: 0xc000003e, aarch64: 0xc00000b7, i386: 0x40000003, arm: 0x40000028 } as const;

export interface SeccompData {
  arch: number;
  nr: number;
  args?: bigint[];
  ip?: bigint;
}

/** Size of struct seccomp_data: nr, arch, instruction_pointer, args[6]. */
const DATA_SIZE = 64;

interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

function decode(prog: Buffer): Insn[] {
  if (prog.length === 0 || prog.length % 8 !== 0) throw new Error(`program of ${prog.length} bytes is not whole instructions`);
  const out: Insn[] = [];
  for (let i = 0; i < prog.length; i += 8) out.push({ code: prog.readUInt16LE(i), jt: prog[i + 2], jf: prog[i + 3], k: prog.readUInt32LE(i + 4) });
  return out;
}

/** The kernel's checks (bpf_check_classic, seccomp_check_filter) for the instructions the compiler emits; any other
    instruction is refused here, so a test notices when the compiler starts emitting one this interpreter cannot run. */
export function checkProgram(prog: Buffer): Insn[] {
  const insns = decode(prog);
  if (insns.length > 4096) throw new Error(`${insns.length} instructions, over BPF_MAXINSNS`);
  insns.forEach((ins, pc) => {
    const inside = (off: number) => {
      if (pc + 1 + off >= insns.length) throw new Error(`instruction ${pc}: jump past the end`);
    };
    switch (ins.code) {
      case OP.LD_W_ABS:
        if (ins.k >= DATA_SIZE || ins.k % 4 !== 0) throw new Error(`instruction ${pc}: load from offset ${ins.k}`);
        break;
      case OP.JA:
        inside(ins.k);
        break;
      case OP.JEQ_K:
      case OP.JGT_K:
      case OP.JGE_K:
      case OP.JSET_K:
        inside(ins.jt);
        inside(ins.jf);
        break;
      case OP.AND_K:
      case OP.RET_K:
        break;
      default:
        throw new Error(`instruction ${pc}: code 0x${ins.code.toString(16)} is not one the compiler emits`);
    }
  });
  if (insns[insns.length - 1].code !== OP.RET_K) throw new Error('the last instruction is not a return');
  return insns;
}

/** Runs the program on one call; returns the 32-bit action value. */
export function runFilter(prog: Buffer, d: SeccompData): number {
  const insns = checkProgram(prog);
  const data = Buffer.alloc(DATA_SIZE);
  data.writeUInt32LE(d.nr >>> 0, 0);
  data.writeUInt32LE(d.arch >>> 0, 4);
  data.writeBigUInt64LE(d.ip ?? 0n, 8);
  (d.args ?? []).forEach((a, i) => data.writeBigUInt64LE(BigInt.asUintN(64, a), 16 + 8 * i));
  let A = 0;
  for (let pc = 0; ; pc++) {
    const { code, jt, jf, k } = insns[pc];
    const branch = (taken: boolean) => (pc += taken ? jt : jf);
    if (code === OP.LD_W_ABS) A = data.readUInt32LE(k);
    else if (code === OP.AND_K) A = (A & k) >>> 0;
    else if (code === OP.JA) pc += k;
    else if (code === OP.JEQ_K) branch(A === k);
    else if (code === OP.JGT_K) branch(A > k);
    else if (code === OP.JGE_K) branch(A >= k);
    else if (code === OP.JSET_K) branch((A & k) !== 0);
    else return k;
  }
}

/** An action value as a test table reads it: ALLOW, ERRNO(1), KILL_PROCESS ... */
export function verdict(value: number): string {
  const data = value & 0xffff;
  switch ((value & 0xffff0000) >>> 0) {
    case 0x80000000: return 'KILL_PROCESS';
    case 0x00000000: return 'KILL_THREAD';
    case 0x00030000: return 'TRAP';
    case 0x00050000: return `ERRNO(${data})`;
    case 0x7ff00000: return `TRACE(${data})`;
    case 0x7ffc0000: return 'LOG';
    case 0x7fff0000: return 'ALLOW';
    default: return `0x${value.toString(16)}`;
  }
}
