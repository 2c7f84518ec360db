// Unit tests of cutting output into lines (partial, CRLF, overlong, UTF-8) and of the ring of recent lines.
import { strict as assert } from 'assert';

import { LineRing } from '../../src/logs/line-ring';
import { CUT_MARK, LineSplitter } from '../../src/logs/line-splitter';

describe('logs: line splitter', () => {
  it('returns whole lines and keeps a partial one for the next chunk', () => {
    const s = new LineSplitter();
    assert.deepEqual(s.push('one\ntw'), ['one']);
    assert.deepEqual(s.push('o\n\nthr'), ['two', '']);
    assert.deepEqual(s.push('ee'), []);
    assert.equal(s.end(), 'three');
    assert.equal(s.end(), null);
  });

  it('has nothing left at the end when the output ended with a newline', () => {
    const s = new LineSplitter();
    assert.deepEqual(s.push(Buffer.from('a\r\nb\n')), ['a', 'b']);
    assert.equal(s.end(), null);
  });

  it('joins a UTF-8 character split across chunks', () => {
    const s = new LineSplitter();
    const euro = Buffer.from('€\n');
    assert.deepEqual(s.push(euro.subarray(0, 1)), []);
    assert.deepEqual(s.push(euro.subarray(1)), ['€']);
  });

  it('cuts an overlong line into marked pieces of at most the limit, losing nothing', () => {
    const s = new LineSplitter(10);
    const lines = [...s.push('abcdefghij'), ...s.push('klmnopqrstuvwxy'), ...s.push('z\nok\n')];
    assert.deepEqual(lines, [`abcdefghij${CUT_MARK}`, `klmnopqrst${CUT_MARK}`, 'uvwxyz', 'ok']);
    assert.equal(s.cutPieces, 2);
  });

  it('keeps a line of exactly the limit whole', () => {
    const s = new LineSplitter(4);
    assert.deepEqual(s.push('abcd\n'), ['abcd']);
  });

  it('does not cut inside a UTF-8 character', () => {
    const s = new LineSplitter(4);
    const lines = s.push('ab€\n'); // € is 3 bytes: "ab" + 2 of them would split it
    assert.deepEqual(lines, [`ab${CUT_MARK}`, '€']);
  });
});

describe('logs: line ring', () => {
  it('keeps the last lines in order', () => {
    const r = new LineRing(3);
    assert.deepEqual(r.last(5), []);
    for (const l of ['a', 'b', 'c', 'd', 'e']) r.push(Buffer.from(`${l}\n`), 1);
    assert.equal(r.length, 3);
    assert.deepEqual(r.last(5), ['c', 'd', 'e']);
    assert.deepEqual(r.last(2), ['d', 'e']);
    assert.deepEqual(r.last(0), []);
  });

  it('takes chunks of several lines and lets go of those it no longer needs', () => {
    const r = new LineRing(3);
    r.push(Buffer.from('a\nb\n'), 2);
    r.push(Buffer.from('c\nd\ne\n'), 3);
    r.push(Buffer.from('f\n'), 1);
    assert.equal(r.length, 3);
    assert.deepEqual(r.last(3), ['d', 'e', 'f']);
    assert.deepEqual(r.last(2), ['e', 'f']);
  });
});
