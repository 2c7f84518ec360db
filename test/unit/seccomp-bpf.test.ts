// Unit tests of the classic-BPF assembler: offsets, far targets through `ja` on either branch, and what it refuses.
import { strict as assert } from 'assert';

import { assemble, Item, jump, Label, load, mark, OP, ret } from '../../src/seccomp/bpf';
import { checkProgram, runFilter } from './seccomp-vm';

const filler = (n: number): Item[] => Array.from({ length: n }, () => ret(0xdead));

/** A program that returns 1 when nr == 7 and 2 otherwise; the return `first` names comes after `gap` filler returns,
    the other one `gap2` further on. */
function twoWay(first: 'yes' | 'no', gap: number, gap2: number): Buffer {
  const yes = new Label();
  const no = new Label();
  const [a, b] = first === 'yes' ? [[mark(yes), ret(1)], [mark(no), ret(2)]] : [[mark(no), ret(2)], [mark(yes), ret(1)]];
  return assemble([load(0), jump('JEQ_K', 7, yes, no), ...filler(gap), ...a, ...filler(gap2), ...b]);
}

describe('seccomp BPF assembler', () => {
  it('encodes struct sock_filter little endian with 8-bit offsets when targets are near', () => {
    const prog = twoWay('yes', 0, 3);
    assert.equal(prog.toString('hex'), [
      '2000000000000000', // ld [0]
      '1500000407000000', // jeq #7, jt 0, jf 4
      '0600000001000000', // ret #1
      '06000000adde0000', // ret #0xdead (filler)
      '06000000adde0000',
      '06000000adde0000',
      '0600000002000000', // ret #2
    ].join(''));
  });

  const cases = [['no', 0, 300, 'the taken branch', 1], ['yes', 0, 300, 'the other branch', 1], ['yes', 300, 0, 'both branches', 2]] as const;
  for (const [first, gap, gap2, far, jas] of cases) {
    it(`reaches ${far} through a ja when it is more than 255 instructions ahead`, () => {
      const prog = twoWay(first, gap, gap2);
      assert.equal(checkProgram(prog).filter((i) => i.code === OP.JA).length, jas);
      assert.equal(runFilter(prog, { arch: 0, nr: 7 }), 1);
      assert.equal(runFilter(prog, { arch: 0, nr: 8 }), 2);
    });
  }

  it('a jump that only becomes far once another one grew is widened too', () => {
    // The inner jump's target lies 255 ahead until the outer jump gains its `ja` in between.
    const outerFar = new Label();
    const innerTarget = new Label();
    const next = new Label();
    const items = [load(0), jump('JEQ_K', 1, innerTarget, next), mark(next), jump('JEQ_K', 2, outerFar, innerTarget), ...filler(254), mark(innerTarget), ret(3), ...filler(300), mark(outerFar), ret(4)];
    const prog = assemble(items);
    assert.equal(checkProgram(prog).filter((i) => i.code === OP.JA).length, 2);
    assert.deepEqual([1, 2, 5].map((nr) => runFilter(prog, { arch: 0, nr })), [3, 4, 3]);
  });

  it('refuses a backward jump and a jump to a label outside the program', () => {
    const back = new Label();
    assert.throws(() => assemble([mark(back), load(0), jump('JEQ_K', 1, back, back), ret(0)]), /backward jump/);
    const nowhere = new Label();
    const end = new Label();
    assert.throws(() => assemble([load(0), jump('JEQ_K', 1, nowhere, end), mark(end), ret(0)]), /not in the program/);
  });
});
