// Unit tests of capability names and the mask nsvisor-init is given, and of the identity options of a service.
import { strict as assert } from 'assert';
import * as fs from 'fs';

import { CAPABILITIES, capabilityMask, capabilityName } from '../../src/config/capabilities';
import { identityArgs } from '../../src/spawn-plan/plan';

describe('capabilities', () => {
  it('names are taken with or without CAP_, in any case, and normalized', () => {
    assert.equal(capabilityName('net_bind_service'), 'CAP_NET_BIND_SERVICE');
    assert.equal(capabilityName('CAP_SYS_ADMIN'), 'CAP_SYS_ADMIN');
    assert.equal(capabilityName('Cap_Kill'), 'CAP_KILL');
    assert.equal(capabilityName('fly'), null);
  });

  it('the mask has bit N for capability N (capability.h numbering)', () => {
    assert.equal(capabilityMask([]), '0');
    assert.equal(capabilityMask(['CAP_CHOWN']), '1');
    assert.equal(capabilityMask(['CAP_NET_BIND_SERVICE']), '400');
    assert.equal(capabilityMask(['CAP_SYS_ADMIN', 'CAP_NET_BIND_SERVICE']), '200400');
    assert.equal(capabilityMask(['CAP_CHECKPOINT_RESTORE']), (1n << 40n).toString(16), 'above 32 bits');
    assert.throws(() => capabilityMask(['CAP_FLY']), /unknown capability "CAP_FLY"/);
  });

  it('the list names every capability the running kernel has', () => {
    const last = Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
    assert.ok(CAPABILITIES.length >= last + 1, `the kernel knows ${last + 1}, the list ${CAPABILITIES.length}`);
  });

  it('identityArgs: ids, the kept set and no_new_privs as nsvisor-init takes them', () => {
    assert.deepEqual(identityArgs({}), []);
    assert.deepEqual(identityArgs({ user: '1000' }), ['--uid', '1000', '--gid', '1000']);
    assert.deepEqual(identityArgs({ user: '1000:50', capabilities: ['CAP_NET_BIND_SERVICE'], noNewPrivileges: true }), [
      '--uid', '1000', '--gid', '50', '--caps', '400', '--no-new-privs',
    ]);
    assert.deepEqual(identityArgs({ capabilities: [] }), ['--caps', '0']);
  });
});
