// What a file needs before execve(2) runs it: an interpreter named by "#!", or the dynamic loader an ELF file names (PT_INTERP).

/** Bytes read from the start of a file to find what it needs: ELF program headers sit near the start. */
export const HEAD_BYTES = 4096;
/** Bytes the kernel reads of a "#!" line (BINPRM_BUF_SIZE). */
const SHEBANG_BYTES = 256;
const PT_INTERP = 3;

/** The interpreter of a "#!" line, or null when the file does not start with one. */
export function shebangInterpreter(head: Buffer): string | null {
  if (head.length < 2 || head[0] !== 0x23 || head[1] !== 0x21) return null;
  const line = head.subarray(2, SHEBANG_BYTES).toString('latin1').split('\n')[0];
  const interpreter = line.trim().split(/[ \t]/)[0];
  return interpreter || null;
}

/**
 * The program interpreter (dynamic loader) an ELF file asks for: a path, null for a static one, undefined when
 * `head` is not ELF or does not hold its program headers.
 */
export function elfInterpreter(head: Buffer): string | null | undefined {
  if (head.length < 52 || head.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const wide = head[4] === 2;
  const le = head[5] === 1;
  const u16 = (at: number) => (le ? head.readUInt16LE(at) : head.readUInt16BE(at));
  const word = (at: number) => {
    if (!wide) return le ? head.readUInt32LE(at) : head.readUInt32BE(at);
    return Number(le ? head.readBigUInt64LE(at) : head.readBigUInt64BE(at));
  };
  if (wide && head.length < 64) return undefined;
  const phoff = word(wide ? 0x20 : 0x1c);
  const phentsize = u16(wide ? 0x36 : 0x2a);
  const phnum = u16(wide ? 0x38 : 0x2c);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + (wide ? 0x28 : 0x18) > head.length) return undefined;
    if ((le ? head.readUInt32LE(at) : head.readUInt32BE(at)) !== PT_INTERP) continue;
    const offset = word(at + (wide ? 0x08 : 0x04));
    const size = word(at + (wide ? 0x20 : 0x10));
    if (offset + size > head.length) return undefined;
    return head.subarray(offset, offset + size).toString('latin1').replace(/\0.*$/s, '');
  }
  return null;
}
