// Unit test of how a successor tells a NOTIFY_SOCKET carried in as a mount of its own from one seen through its directory.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { notifyCarried } from '../../src/service/notify';

describe('notifyCarried', () => {
  it('is true for a path that is a mount point of the process, false for a file in a directory it sees', () => {
    const mountPoint = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')[0].split(' ')[4];
    assert.equal(notifyCarried(process.pid, mountPoint), true, `${mountPoint} is a mount point here`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'notify-carried-'));
    try {
      assert.equal(notifyCarried(process.pid, path.join(dir, 'web.sock')), false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

});
