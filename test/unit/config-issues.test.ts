// Unit tests of configuration error messages: every problem, its path, and a suggestion for a mistyped key.
import { strict as assert } from 'assert';

import { isolationSchema } from '../../src/config/isolation';
import { ConfigError, parseOrThrow, suggest } from '../../src/config/issues';

const problems = (input: unknown, prefix = '') => {
  try {
    parseOrThrow(isolationSchema, input, prefix);
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.problems;
  }
  assert.fail('expected a ConfigError');
};

describe('config issues', () => {
  it('lists every problem at once with its full path', () => {
    assert.deepEqual(
      problems(
        { command: ['x'], isolate: ['pid', 'pidd'], time: { boottime: 'yesterday' }, stop: { drain: '-1s' }, mounts: [{ type: 'bind', source: 'rel', target: '/x' }] },
        'services.web',
      ),
      [
        'services.web.isolate[1]: Invalid option: expected one of "pid"|"mount"|"uts"|"ipc"|"net"|"user"|"cgroup"|"time"',
        'services.web.mounts[0].source: expected an absolute path',
        'services.web.time.boottime: expected a duration like -1h, 500ms, 10s, 1m or 1h, got "yesterday", or fromZero',
        'services.web.stop.drain: expected a duration like 500ms, 10s, 1m or 1h, got "-1s"',
      ],
    );
  });

  it('names unknown keys, suggesting the close one', () => {
    assert.deepEqual(problems({ command: ['x'], hostnme: 'a', stop: { signl: 'TERM' }, zzz: 1 }), [
      'stop.signl: unknown key; did you mean "signal"?',
      'hostnme: unknown key; did you mean "hostname"?',
      'zzz: unknown key',
    ]);
  });

  it('suggests only keys that are close', () => {
    assert.equal(suggest('polcy', ['policy', 'delay']), 'policy');
    assert.equal(suggest('banana', ['policy', 'delay']), null);
  });

  it('accepts signal names with or without SIG', () => {
    assert.equal(isolationSchema.parse({ command: ['x'], stop: { signal: 'INT' } }).stop.signal, 'SIGINT');
    assert.deepEqual(problems({ command: ['x'], stop: { signal: 'SIGNOPE' } }), ['stop.signal: expected a signal name such as SIGTERM']);
  });
});
