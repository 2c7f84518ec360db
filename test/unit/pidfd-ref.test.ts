// A pidfd closed when its process went: a later signal reaches no fd number that may belong to something else by now.
import { strict as assert } from 'assert';
import { spawn } from 'child_process';

import { PidfdRef } from '../../src/process/isolated-process';
import { addon } from '../../src/native';

describe('PidfdRef', () => {
  it('signals its process while open, and nothing once closed (no EBADF, no other process)', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const ended = new Promise((r) => child.once('exit', (_c, s) => r(s)));
    try {
      const ref = new PidfdRef(addon.pidfdOpen(child.pid!));
      const other = new PidfdRef(addon.pidfdOpen(child.pid!));
      assert.equal(ref.signal(0), true, 'signal 0 probes a live process');
      ref.close();
      ref.close(); // twice is harmless
      assert.equal(ref.signal(9), false);
      assert.equal(child.exitCode, null);
      assert.equal(other.signal(15), true);
      assert.equal(await ended, 'SIGTERM');
      other.close();
    } finally {
      child.kill('SIGKILL');
    }
  });
});
