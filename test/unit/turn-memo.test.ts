// Unit tests of turnMemo: one look per path within a turn of the event loop, a fresh one in the next.
import { strict as assert } from 'assert';

import { turnMemo } from '../../src/process/turn-memo';

describe('turnMemo: answers about paths kept for one turn', () => {
  it('looks once per path in a turn, and again in the next', async () => {
    const looks: string[] = [];
    let version = 0;
    const probe = turnMemo((p: string) => {
      looks.push(p);
      return `${p}@${version}`;
    });
    assert.equal(probe('/a'), '/a@0');
    version = 1;
    assert.equal(probe('/a'), '/a@0', 'the same turn: the answer kept');
    assert.equal(probe('/b'), '/b@1');
    assert.deepEqual(looks, ['/a', '/b']);
    await new Promise((r) => setImmediate(r));
    assert.equal(probe('/a'), '/a@1', 'a later turn looks again');
    assert.deepEqual(looks, ['/a', '/b', '/a']);
  });

  it('keeps a null answer (nothing there) as an answer', () => {
    let n = 0;
    const probe = turnMemo(() => {
      n++;
      return null;
    });
    assert.equal(probe('/gone'), null);
    assert.equal(probe('/gone'), null);
    assert.equal(n, 1);
  });
});
