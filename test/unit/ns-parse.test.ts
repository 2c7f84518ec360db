// Unit tests of the /proc and /etc/passwd text parsers behind nsvisor ns.
import { strict as assert } from 'assert';

import { formatCommand, parseNsLink, parsePasswd } from '../../src/ns/parse';

describe('ns parse: namespace links', () => {
  it('reads type and inode from a /proc/PID/ns link', () => {
    assert.deepEqual(parseNsLink('pid:[4026531836]'), { type: 'pid', inode: 4026531836 });
    assert.deepEqual(parseNsLink('mnt:[4026532178]'), { type: 'mnt', inode: 4026532178 });
  });

  it('rejects unknown types and malformed text', () => {
    assert.equal(parseNsLink('pid_for_children:[4026531836]'), null);
    assert.equal(parseNsLink('bogus:[1]'), null);
    assert.equal(parseNsLink('pid:4026531836'), null);
    assert.equal(parseNsLink('pid:[]'), null);
    assert.equal(parseNsLink(''), null);
  });
});

describe('ns parse: command lines', () => {
  it('joins NUL-separated arguments with spaces and drops the trailing NUL', () => {
    assert.equal(formatCommand('sleep\u000030\u0000', 'sleep\n'), 'sleep 30');
    assert.equal(formatCommand('/usr/bin/python3\u0000-m\u0000http.server\u0000', ''), '/usr/bin/python3 -m http.server');
  });

  it('keeps a command line that was rewritten without NULs', () => {
    assert.equal(formatCommand('nginx: worker process', 'nginx\n'), 'nginx: worker process');
  });

  it('falls back to the comm name for kernel threads (empty command line)', () => {
    assert.equal(formatCommand('', 'kthreadd\n'), 'kthreadd');
  });
});

describe('ns parse: /etc/passwd', () => {
  const text = [
    'root:x:0:0:root:/root:/bin/bash',
    'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
    'toor:x:0:0:second root:/root:/bin/sh',
    '# a comment',
    'broken line',
    'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
    '',
  ].join('\n');

  it('maps uids to names, first entry winning, malformed lines ignored', () => {
    const names = parsePasswd(text);
    assert.equal(names.get(0), 'root');
    assert.equal(names.get(1), 'daemon');
    assert.equal(names.get(65534), 'nobody');
    assert.equal(names.size, 3);
  });
});
