// A small interpreter of the eBPF instructions device-program.ts emits, run on a bpf_cgroup_dev_ctx (the unit tests' kernel).
import { OP } from '../../src/security/device-program';

const known = new Set<number>(Object.values(OP));

/** Decodes struct bpf_insn[] and runs it on the context; throws on an opcode it does not know, a jump out of the program or a fall off the end. */
export function runDeviceProgram(program: Buffer, ctx: { type: number; access: number; major: number; minor: number }): number {
  const words = [((ctx.access << 16) | ctx.type) >>> 0, ctx.major >>> 0, ctx.minor >>> 0];
  const r = new Array<bigint>(11).fill(0n);
  const n = program.length / 8;
  const u32 = (x: bigint) => x & 0xffffffffn;
  for (let pc = 0, steps = 0; steps < 100_000; steps++) {
    if (pc < 0 || pc >= n) throw new Error(`pc ${pc} outside the program (${n} instructions)`);
    const code = program.readUInt8(pc * 8);
    const regs = program.readUInt8(pc * 8 + 1);
    const dst = regs & 0xf;
    const src = regs >> 4;
    const off = program.readInt16LE(pc * 8 + 2);
    const imm = program.readInt32LE(pc * 8 + 4);
    if (!known.has(code)) throw new Error(`unknown opcode 0x${code.toString(16)} at ${pc}`);
    pc++;
    switch (code) {
      case OP.loadWord:
        if (src !== 1 || off % 4 !== 0 || off < 0 || off > 8) throw new Error(`load from r${src}+${off}`);
        r[dst] = BigInt(words[off / 4]);
        break;
      case OP.and32:
        r[dst] = u32(r[dst] & BigInt(imm >>> 0));
        break;
      case OP.rsh32:
        r[dst] = u32(r[dst]) >> BigInt(imm);
        break;
      case OP.mov32Reg:
        r[dst] = u32(r[src]);
        break;
      case OP.mov64:
        r[dst] = BigInt(imm);
        break;
      case OP.jne32:
        if (u32(r[dst]) !== BigInt(imm >>> 0)) pc += off;
        break;
      case OP.exit:
        return Number(r[0]);
    }
  }
  throw new Error('no exit after 100000 steps');
}
