// Unit tests of what the host checks read from the kernel's formats: /proc/net/tcp, bind collisions, "#!" lines, ELF PT_INTERP.
import { strict as assert } from 'assert';

import { elfInterpreter, shebangInterpreter } from '../../src/config/host-checks-exec';
import { canonicalIPv6, collides, parseProcNetTcp } from '../../src/config/host-checks-tcp';
import { elfHead } from './host-checks-fakes';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';

/** One line of /proc/net/tcp(6) as the kernel prints it: slot, local and remote address, state, queues, timers, uid, inode. */
const row = (slot: number, local: string, state: string, inode: number) => {
  const remote = `${'0'.repeat(local.indexOf(':'))}:0000`;
  return `   ${slot}: ${local} ${remote} ${state} 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 000000004edce22e 100 0 0 10 0\n`;
};

describe('host checks: /proc/net/tcp and tcp6', () => {
  it('keeps only listening sockets, with address, port and inode (little-endian words)', () => {
    const v4 = HEADER + row(0, '00000000:07E8', '0A', 123) + row(1, '020200C0:CCB2', '06', 0) + row(2, '0100007F:1F90', '0A', 4567);
    assert.deepEqual(parseProcNetTcp(v4), [
      { family: 4, address: '0.0.0.0', port: 2024, inode: 123 },
      { family: 4, address: '127.0.0.1', port: 8080, inode: 4567 },
    ]);
    const v6 = HEADER +
      row(0, '00000000000000000000000000000000:1F90', '0A', 11) +
      row(1, '00000000000000000000000001000000:0050', '0A', 12) +
      row(2, '0000000000000000FFFF00000100007F:0051', '0A', 13) +
      row(3, 'B80D0120000000000000000001000000:0052', '0A', 14);
    assert.deepEqual(parseProcNetTcp(v6), [
      { family: 6, address: '::', port: 8080, inode: 11 },
      { family: 6, address: '::1', port: 80, inode: 12 },
      { family: 6, address: '::ffff:127.0.0.1', port: 81, inode: 13 },
      { family: 6, address: '2001:db8::1', port: 82, inode: 14 },
    ]);
  });

  it('reads the words in big-endian order on a big-endian host', () => {
    assert.deepEqual(parseProcNetTcp(HEADER + row(0, '7F000001:1F90', '0A', 9), false), [
      { family: 4, address: '127.0.0.1', port: 8080, inode: 9 },
    ]);
  });

  it('canonical IPv6 text, with a mapped IPv4 address dotted', () => {
    assert.equal(canonicalIPv6('0:0:0:0:0:0:0:1'), '::1');
    assert.equal(canonicalIPv6('2001:DB8:0:0::1'), '2001:db8::1');
    assert.equal(canonicalIPv6('::ffff:7f00:1'), '::ffff:127.0.0.1');
  });
});

describe('host checks: which listeners a bind collides with', () => {
  const l = (address: string, port = 80) => ({ family: address.includes(':') ? (6 as const) : (4 as const), address, port, inode: 1 });
  const cases: [ours: string, theirs: string, collides: boolean][] = [
    ['127.0.0.1', '127.0.0.1', true],
    ['127.0.0.1', '127.0.0.2', false],
    ['127.0.0.1', '0.0.0.0', true],
    ['0.0.0.0', '10.0.0.1', true],
    ['127.0.0.1', '::', true], // dual-stack "::" holds the IPv4 port too
    ['::', '127.0.0.1', true], // so binding it needs the IPv4 port free
    ['::1', '0.0.0.0', false],
    ['::1', '::1', true],
    ['::1', '::2', false],
    ['::1', '::', true],
    ['127.0.0.1', '::ffff:127.0.0.1', true],
    ['127.0.0.1', '::1', false],
    ['localhost', '0.0.0.0', true], // a name meets wildcards only
    ['localhost', '127.0.0.1', false],
  ];
  for (const [ours, theirs, expected] of cases) {
    it(`${ours} against a listener on ${theirs}: ${expected ? 'collides' : 'does not'}`, () => assert.equal(collides(ours, 80, l(theirs)), expected));
  }
  it('another port never collides', () => assert.equal(collides('0.0.0.0', 81, l('0.0.0.0')), false));
});

describe('host checks: what a program needs to run', () => {
  it('"#!" lines: the interpreter, without its argument', () => {
    assert.equal(shebangInterpreter(Buffer.from('#!/bin/sh\necho\n')), '/bin/sh');
    assert.equal(shebangInterpreter(Buffer.from('#! \t/usr/bin/env node -x\n')), '/usr/bin/env');
    assert.equal(shebangInterpreter(Buffer.from('#!\n')), null);
    assert.equal(shebangInterpreter(Buffer.from('echo no\n')), null);
  });

  it('ELF: PT_INTERP of 64- and 32-bit files; null for a static one; undefined when not ELF or cut short', () => {
    assert.equal(elfInterpreter(elfHead('/lib64/ld-linux-x86-64.so.2')), '/lib64/ld-linux-x86-64.so.2');
    assert.equal(elfInterpreter(elfHead('/lib/ld-linux.so.2', false)), '/lib/ld-linux.so.2');
    assert.equal(elfInterpreter(elfHead(null)), null);
    assert.equal(elfInterpreter(Buffer.from('#!/bin/sh\n'.padEnd(80))), undefined);
    assert.equal(elfInterpreter(elfHead('/lib/ld.so').subarray(0, 100)), undefined);
  });
});
