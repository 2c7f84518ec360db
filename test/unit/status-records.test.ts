// Unit tests of decoding the status pipe's records, including records split across reads.
import { strict as assert } from 'assert';

import { addon } from '../../src/native';
import { decodeRecords, RECORD_SIZE } from '../../src/process/status-records';

function record(kind: number, step = 0, errno = 0, index = -1): Buffer {
  const b = Buffer.alloc(RECORD_SIZE);
  b.writeInt32LE(kind, 0);
  b.writeInt32LE(step, 4);
  b.writeInt32LE(errno, 8);
  b.writeInt32LE(index, 12);
  return b;
}

describe('status records', () => {
  it('decodes init-started and errors with their step names', () => {
    const pivot = addon.stepNames.indexOf('pivot_root');
    assert.ok(pivot >= 0);
    const { records, rest } = decodeRecords(Buffer.concat([record(addon.recordKinds.initStarted), record(addon.recordKinds.error, pivot, 22, 3)]));
    assert.deepEqual(records, [{ kind: 'initStarted' }, { kind: 'error', stepId: pivot, step: 'pivot_root', errno: 22, index: 3 }]);
    assert.equal(rest.length, 0);
  });

  it('decodes exec-ok and the reaped-orphan counts that nsvisor-init sends while the service runs', () => {
    const { records } = decodeRecords(Buffer.concat([record(addon.recordKinds.execOk), record(addon.recordKinds.reaped, 17)]));
    assert.deepEqual(records, [{ kind: 'execOk' }, { kind: 'reaped', count: 17 }]);
  });

  it('keeps an incomplete record for the next read', () => {
    const whole = record(addon.recordKinds.error, 0, 1);
    const first = decodeRecords(whole.subarray(0, 10));
    assert.deepEqual(first.records, []);
    const second = decodeRecords(Buffer.concat([first.rest, whole.subarray(10)]));
    assert.equal(second.records.length, 1);
  });

  it('ends at a record of no known kind: what follows cannot be trusted to be aligned', () => {
    const { records, rest } = decodeRecords(Buffer.concat([record(addon.recordKinds.execOk), record(99), record(addon.recordKinds.reaped, 1)]));
    assert.deepEqual(records, [{ kind: 'execOk' }, { kind: 'garbage', value: 99 }]);
    assert.equal(rest.length, 0);
  });
});
