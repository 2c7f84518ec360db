// Unit tests of the argument of nsvisor ns (PID, NAME or nothing) and of its command-line handling.
import { strict as assert } from 'assert';

import { CliError } from '../../src/cli/errors';
import { buildProgram } from '../../src/cli/main';
import { parseTarget } from '../../src/ns/target';

describe('ns target: parseTarget', () => {
  it('lists everything without an argument', () => {
    assert.deepEqual(parseTarget(undefined), { kind: 'all' });
  });

  it('takes a decimal number as a PID', () => {
    assert.deepEqual(parseTarget('1'), { kind: 'pid', pid: 1 });
    assert.deepEqual(parseTarget('4242'), { kind: 'pid', pid: 4242 });
    assert.deepEqual(parseTarget('4194304'), { kind: 'pid', pid: 4194304 });
  });

  it('refuses numbers no process can have', () => {
    assert.throws(() => parseTarget('0'), RangeError);
    assert.throws(() => parseTarget('4194305'), RangeError);
    assert.throws(() => parseTarget('99999999999999999999'), RangeError);
  });

  it('takes anything else as a service name', () => {
    assert.deepEqual(parseTarget('web'), { kind: 'name', name: 'web' });
    assert.deepEqual(parseTarget('web-2'), { kind: 'name', name: 'web-2' });
    assert.deepEqual(parseTarget('12abc'), { kind: 'name', name: '12abc' });
  });

  it('refuses an empty argument', () => {
    assert.throws(() => parseTarget(''), RangeError);
    assert.throws(() => parseTarget('  '), RangeError);
  });
});

describe('ns target: command line', () => {
  async function parseError(args: string[]): Promise<unknown> {
    const program = buildProgram();
    const silent = { writeErr: () => {}, writeOut: () => {} };
    for (const cmd of [program, ...program.commands]) cmd.configureOutput(silent);
    try {
      await program.parseAsync(['node', 'nsvisor', ...args]);
    } catch (err) {
      return err;
    }
    assert.fail(`nsvisor ${args.join(' ')} should have failed`);
  }

  it('makes an invalid pid a usage error (exit 2)', async () => {
    const err = await parseError(['ns', '0']);
    assert.ok(err instanceof CliError);
    assert.equal(err.exitCode, 2);
    assert.match(err.message, /"0" is not a valid pid/);
  });

  it('rejects unknown options and extra arguments', async () => {
    const unknown = (await parseError(['ns', '--bogus'])) as { code?: string };
    assert.equal(unknown.code, 'commander.unknownOption');
    const extra = (await parseError(['ns', '1', '2'])) as { code?: string };
    assert.equal(extra.code, 'commander.excessArguments');
  });
});
