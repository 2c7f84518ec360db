// Unit tests of capability names and the mask nsvisor-init is given, and of the identity options of a service.
import { strict as assert } from 'assert';
import * as fs from 'fs';

import { CAPABILITIES, capabilityMask, capabilityName } from '../../src/config/capabilities';
import { identityArgs, identityOf } from '../../src/spawn-plan/plan';
import { DEFAULT_CAPABILITIES } from '../../src/security/protections';

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

  it('identityArgs: ids, the kept set (ambient when asked) and no_new_privs as nsvisor-init takes them', () => {
    const none = { capabilities: null, ambient: false, noNewPrivileges: false };
    assert.deepEqual(identityArgs(none), []);
    assert.deepEqual(identityArgs({ ...none, user: '1000' }), ['--uid', '1000', '--gid', '1000']);
    assert.deepEqual(identityArgs({ user: '1000:50', capabilities: ['CAP_NET_BIND_SERVICE'], ambient: true, noNewPrivileges: true }), [
      '--uid', '1000', '--gid', '50', '--caps', '400', '--ambient', '--no-new-privs',
    ]);
    assert.deepEqual(identityArgs({ ...none, capabilities: [] }), ['--caps', '0']);
  });

  it('identityOf: the default set for a service, every capability when privileged, ambient only for a list given to a user', () => {
    const keys = { capabilities: 'default' as const, noNewPrivileges: false, seccomp: 'default', privileged: false, devices: [] };
    const root = identityOf(keys);
    assert.equal(capabilityMask(root.capabilities!), capabilityMask(DEFAULT_CAPABILITIES), 'Docker\'s 14');
    assert.equal(DEFAULT_CAPABILITIES.length, 14);
    assert.equal(root.ambient, false);
    assert.equal(identityOf({ ...keys, user: '1000' }).ambient, false, 'the default set only bounds a user that is not root');
    assert.equal(identityOf({ ...keys, user: '1000', capabilities: ['CAP_NET_BIND_SERVICE'] }).ambient, true);
    assert.equal(identityOf({ ...keys, user: '0:0', capabilities: ['CAP_NET_BIND_SERVICE'] }).ambient, false, 'root keeps them without');
    assert.equal(identityOf({ ...keys, capabilities: 'all' }).capabilities, null);
    assert.equal(identityOf({ ...keys, privileged: true }).capabilities, null);
  });
});
