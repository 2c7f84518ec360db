// Unit test of the lease take-over an adopting supervisor does: from a dead holder or the recorded one, never from another live process.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { AddressError, AddressPool, layoutOf } from '../../src/net/ipam';
import { LeaseDir } from '../../src/net/leases';

const DEAD = 2 ** 22 + 1; // above pid_max's ceiling: no process has it

describe('LeaseDir.takeOver', () => {
  let root: string;
  let leases: LeaseDir;
  let pool: AddressPool;
  const file = (last: number) => path.join(leases.dir, `10.9.0.${last}`);
  const write = (last: number, holder: number) => fs.writeFileSync(file(last), `${holder} web\n`);

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'lease-takeover-'));
    leases = new LeaseDir('nsvt9', root);
    pool = new AddressPool('nsvt9', layoutOf('10.9.0.0/24'));
    fs.mkdirSync(leases.dir, { recursive: true });
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('takes a lease whose holder is dead, one held by the recorded supervisor, and one nobody holds; the pool skips them after', () => {
    write(2, DEAD);
    write(3, process.ppid); // alive, but the supervisor the state file names
    leases.takeOver(pool, 0x0a090002, 'web', DEAD);
    leases.takeOver(pool, 0x0a090003, 'web', process.ppid);
    leases.takeOver(pool, 0x0a090004, 'web', DEAD);
    for (const last of [2, 3, 4]) assert.equal(fs.readFileSync(file(last), 'utf8'), `${process.pid} web\n`);
    assert.deepEqual(fs.readdirSync(leases.dir).sort(), ['10.9.0.2', '10.9.0.3', '10.9.0.4'], 'no temporary file left');
    assert.equal(leases.acquire(pool, 'other'), 0x0a090005);
  });

  it('refuses an address another live process holds now, naming it, and reserves nothing', () => {
    write(2, process.ppid);
    assert.throws(() => leases.takeOver(pool, 0x0a090002, 'web', DEAD), (e: Error) => e instanceof AddressError && e.message === `web: 10.9.0.2 on network nsvt9 is the address of web (pid ${process.ppid}) now`);
    assert.equal(pool.ownerOf(0x0a090002), undefined);
    assert.equal(fs.readFileSync(file(2), 'utf8'), `${process.ppid} web\n`, 'its lease is left as it was');
  });
});
