// The supervisor's own output lines: a reader that went away (EPIPE) ends them quietly instead of a loop of error reports.
import { strict as assert } from 'assert';
import { Writable } from 'stream';

import { EventLog } from '../../src/events/event-log';

/** A stream that fails every write as a pipe with no reader does, counting the attempts. */
function brokenPipe(): { out: Writable; writes: () => number } {
  let writes = 0;
  const out = new Writable({
    write(_chunk, _enc, done) {
      writes++;
      done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    },
  });
  return { out, writes: () => writes };
}

describe('event log output', () => {
  it('writes text and json lines', () => {
    const lines: string[] = [];
    const out = new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) });
    new EventLog(out).note('hello', 'up');
    new EventLog(out, 'json', () => new Date(0)).write({ service: 'web', event: 'ready', message: 'ready', fields: { pid: 7 } });
    assert.deepEqual(lines, ['nsvisor: up\n', '{"time":"1970-01-01T00:00:00.000Z","service":"web","event":"ready","message":"ready","pid":7}\n']);
  });

  it('drops its lines once the output failed, and the failure is no uncaught error', async () => {
    const { out, writes } = brokenPipe();
    const uncaught: unknown[] = [];
    const record = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', record);
    try {
      const events = new EventLog(out);
      events.note('one', 'first line');
      await new Promise((r) => setImmediate(r));
      for (let i = 0; i < 100; i++) events.note('more', `line ${i}`);
      await new Promise((r) => setImmediate(r));
      assert.equal(writes(), 1, 'one write reached the broken pipe; the rest were dropped');
      assert.deepEqual(uncaught, []);
    } finally {
      process.off('uncaughtException', record);
    }
  });
});
