// The device allow-list: its rules, their v1 lines, and the eBPF program for v2 run against a reference matcher on every case.
import { strict as assert } from 'assert';

import { DEV_ACCESS, DEV_TYPE, deviceProgram, deviceProgramInsns } from '../../src/security/device-program';
import { DEFAULT_DEVICE_RULES, DeviceRule, deviceRules, splitDev, v1Line } from '../../src/security/device-rules';
import { runDeviceProgram } from './device-vm';

/** What the rules mean, said plainly: the first rule of the right type, numbers and access allows. */
function allows(rules: readonly DeviceRule[], type: 'b' | 'c', major: number, minor: number, access: string): boolean {
  return rules.some(
    (r) => (r.type === 'a' || r.type === type) && (r.major === null || r.major === major) && (r.minor === null || r.minor === minor) && [...access].every((a) => r.access.includes(a)),
  );
}

const accessBits = (access: string) => [...access].reduce((m, a) => m | DEV_ACCESS[a as 'r' | 'w' | 'm'], 0);

describe('device allow-list', () => {
  it('as devices.allow lines: the defaults, then a device given', () => {
    const rules = deviceRules([{ path: '/dev/fuse', type: 'c', major: 10, minor: 229 }]);
    assert.deepEqual(rules.map(v1Line), [
      'c *:* m', 'b *:* m', 'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', 'c 5:0 rwm', 'c 5:2 rwm', 'c 136:* rwm', 'c 10:229 rwm',
    ]);
    assert.equal(v1Line({ type: 'a', major: null, minor: null, access: 'rwm' }), 'a *:* rwm');
  });

  it('the v2 program decides as the rules say, for every type, access and number tried', () => {
    const rulesets: DeviceRule[][] = [
      deviceRules([]),
      deviceRules([{ path: '/dev/sda', type: 'b', major: 8, minor: 0 }, { path: '/dev/big', type: 'c', major: 0xfffff, minor: 0xfffffff0 }]),
      [{ type: 'a', major: null, minor: null, access: 'r' }],
      [],
    ];
    const numbers: [number, number][] = [[1, 3], [1, 4], [1, 9], [5, 2], [5, 1], [136, 0], [136, 77], [8, 0], [8, 1], [254, 0], [0xfffff, 0xfffffff0], [0xfffff, 0]];
    let cases = 0;
    for (const rules of rulesets) {
      const program = deviceProgram(rules);
      for (const type of ['b', 'c'] as const) {
        for (const [major, minor] of numbers) {
          for (const access of ['r', 'w', 'm', 'rw', 'rwm', 'wm']) {
            const got = runDeviceProgram(program, { type: DEV_TYPE[type], access: accessBits(access), major, minor });
            assert.equal(got, allows(rules, type, major, minor, access) ? 1 : 0, `${type} ${major}:${minor} ${access} under ${rules.map(v1Line).join(', ')}`);
            cases++;
          }
        }
      }
    }
    assert.equal(cases, 4 * 2 * 12 * 6);
  });

  it('the defaults: a host disk may be created but not opened; /dev/null and a pty may', () => {
    const program = deviceProgram(DEFAULT_DEVICE_RULES);
    const run = (type: 'b' | 'c', major: number, minor: number, access: string) => runDeviceProgram(program, { type: DEV_TYPE[type], access: accessBits(access), major, minor });
    assert.deepEqual([run('b', 8, 0, 'm'), run('b', 8, 0, 'r'), run('b', 8, 0, 'rw'), run('c', 1, 1, 'r')], [1, 0, 0, 0], 'mknod yes, open /dev/sda or /dev/mem no');
    assert.deepEqual([run('c', 1, 3, 'rw'), run('c', 136, 5, 'rw'), run('c', 5, 2, 'rw')], [1, 1, 1]);
  });

  it('each jump of a block lands on the next block: the program ends in "deny"', () => {
    const insns = deviceProgramInsns([{ type: 'c', major: 1, minor: 3, access: 'rw' }]);
    assert.deepEqual(insns.slice(-2).map((i) => [i.code, i.imm]), [[0xb7, 0], [0x95, 0]]);
    assert.deepEqual(insns.filter((i) => i.code === 0x56).map((i) => i.off), [7, 4, 3, 2], 'type, access, major, minor: each past the rest of the block');
  });

  it("splits a dev_t as glibc's major() and minor() do", () => {
    assert.deepEqual(splitDev(0x0803), { major: 8, minor: 3 });
    assert.deepEqual(splitDev(0xfe00), { major: 254, minor: 0 });
    // glibc's makedev, in BigInt: numbers whose high bits land above bit 32.
    const makedev = (major: number, minor: number) =>
      Number((BigInt(minor & 0xff)) | (BigInt(major & 0xfff) << 8n) | (BigInt(minor & ~0xff) << 12n) | (BigInt(major & ~0xfff) << 32n));
    for (const [major, minor] of [[0x12345, 0x6789a], [0xfffff, 0xfffff], [259, 1 << 19]]) {
      assert.deepEqual(splitDev(makedev(major, minor)), { major, minor });
    }
  });
});
