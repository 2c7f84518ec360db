// Unit tests of duration and size parsing.
import { strict as assert } from 'assert';

import { parseDuration, parseSize, toSecNsec } from '../../src/config/units';

describe('units: durations', () => {
  it('reads ms, s, m, h with fractions', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('10s'), 10_000);
    assert.equal(parseDuration('1.5m'), 90_000);
    assert.equal(parseDuration('1h'), 3_600_000);
  });
  it('takes a sign only where signed', () => {
    assert.equal(parseDuration('-1h', true), -3_600_000);
    assert.equal(parseDuration('+2s', true), 2000);
    assert.throws(() => parseDuration('-1h'), /expected a duration like 500ms, 10s, 1m or 1h, got "-1h"/);
  });
  it('refuses what is not a duration, quoting it', () => {
    for (const bad of ['10', 'ten seconds', '5d', '', 's']) assert.throws(() => parseDuration(bad), new RegExp(JSON.stringify(bad)));
  });
  it('splits signed milliseconds into seconds and non-negative nanoseconds', () => {
    assert.deepEqual(toSecNsec(-1500), { sec: -2, nsec: 500_000_000 });
    assert.deepEqual(toSecNsec(3_600_000), { sec: 3600, nsec: 0 });
    assert.deepEqual(toSecNsec(-5000), { sec: -5, nsec: 0 });
  });
});

describe('units: sizes', () => {
  it('reads bytes, powers of 10 and powers of 2', () => {
    assert.equal(parseSize(65536), 65536);
    assert.equal(parseSize('65536'), 65536);
    assert.equal(parseSize('1k'), 1000);
    assert.equal(parseSize('256Mi'), 256 * 2 ** 20);
    assert.equal(parseSize('1G'), 1e9);
    assert.equal(parseSize('1.5Gi'), 1.5 * 2 ** 30);
  });
  it('refuses the rest, quoting it', () => {
    for (const bad of ['lots', '1MB', '-1', '1 gigabyte']) assert.throws(() => parseSize(bad), /expected a size like 256Mi, 1G or 65536/);
  });
});
