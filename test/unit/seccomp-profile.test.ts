// Unit tests of reading OCI/Docker seccomp JSON profiles: the model they give, every error message, and a profile compiled end to end.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { ConfigError } from '../../src/config/issues';
import { compileSeccomp } from '../../src/seccomp/compile';
import { parseJson } from '../../src/seccomp/json-text';
import { parseProfileJson, readProfileFile } from '../../src/seccomp/parse-profile';
import { AUDIT_ARCH, runFilter, verdict } from './seccomp-vm';

function problems(text: string, file = '/etc/p.json'): string[] {
  try {
    parseProfileJson(text, file);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems;
  }
  assert.fail('expected a ConfigError');
}

const json = (v: unknown) => JSON.stringify(v, null, 2);

/** A runc-style OCI profile: an allow-list with argument conditions, a 64-bit value, errnoRet, Docker's includes/excludes. */
const OCI_PROFILE = `{
  "defaultAction": "SCMP_ACT_ERRNO",
  "defaultErrnoRet": 13,
  "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
  "syscalls": [
    { "names": ["read", "write", "exit_group", "chown32"], "action": "SCMP_ACT_ALLOW" },
    { "name": "getpid", "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "comment": "the old single-name form" },
    { "names": ["kill"], "action": "SCMP_ACT_ALLOW",
      "args": [ { "index": 1, "value": 15, "op": "SCMP_CMP_EQ" }, { "index": 0, "value": 18446744073709551615, "op": "SCMP_CMP_NE" } ] },
    { "names": ["mmap"], "action": "SCMP_ACT_ALLOW",
      "args": [ { "index": 2, "value": 4, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ" } ] },
    { "names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": { "caps": ["CAP_SYS_ADMIN"] } },
    { "names": ["ptrace"], "action": "SCMP_ACT_KILL_PROCESS", "excludes": { "arches": ["arm64"], "minKernel": "9.0" } },
    { "names": ["uname"], "action": "SCMP_ACT_LOG" },
    { "names": ["getppid"], "action": "SCMP_ACT_TRACE", "errnoRet": 7 },
    { "names": ["gettid"], "action": "SCMP_ACT_KILL" }
  ]
}`;

describe('seccomp profiles: OCI / Docker JSON', () => {
  it('reads a profile into the model: actions with their errno, args as exact 64-bit values, filters', () => {
    const p = parseProfileJson(OCI_PROFILE, 'oci.json');
    assert.deepEqual(p.defaultAction, { kind: 'errno', errno: 13 });
    assert.deepEqual(p.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    assert.deepEqual(p.rules[1], { names: ['getpid'], action: { kind: 'errno', errno: 38 }, args: [], includes: undefined, excludes: undefined });
    assert.deepEqual(p.rules[2].args, [
      { index: 1, value: 15n, valueTwo: 0n, op: 'SCMP_CMP_EQ' },
      { index: 0, value: 0xffffffffffffffffn, valueTwo: 0n, op: 'SCMP_CMP_NE' },
    ]);
    assert.deepEqual(p.rules[5].excludes, { arches: ['arm64'], minKernel: [9, 0] });
    assert.deepEqual(p.rules[7].action, { kind: 'trace', data: 7 });
    assert.deepEqual(p.rules[8].action, { kind: 'killThread' });
  });

  it('compiles it end to end: each call decided as the profile says', () => {
    const p = parseProfileJson(OCI_PROFILE, 'oci.json');
    const run = (caps: string[], nr: number, ...args: bigint[]) =>
      verdict(runFilter(compileSeccomp(p, { arch: 'x86_64', capabilities: caps, kernel: [6, 18] }), { arch: AUDIT_ARCH.x86_64, nr, args }));
    const M = 0xffffffffffffffffn;
    const rows: [string, string[], number, bigint[], string][] = [
      ['read', [], 0, [], 'ALLOW'],
      ['getpid', [], 39, [], 'ERRNO(38)'],
      ['kill(5, SIGTERM)', [], 62, [5n, 15n], 'ALLOW'],
      ['kill(5, SIGKILL)', [], 62, [5n, 9n], 'ERRNO(13)'],
      ['kill(-1 as 64 bits, SIGTERM)', [], 62, [M, 15n], 'ERRNO(13)'],
      ['kill(-1 as 32 bits, SIGTERM)', [], 62, [0xffffffffn, 15n], 'ALLOW'],
      ['mmap(PROT_READ)', [], 9, [0n, 4096n, 1n], 'ALLOW'],
      ['mmap(PROT_EXEC)', [], 9, [0n, 4096n, 5n], 'ERRNO(13)'],
      ['mount without CAP_SYS_ADMIN', [], 165, [], 'ERRNO(13)'],
      ['mount with CAP_SYS_ADMIN', ['CAP_SYS_ADMIN'], 165, [], 'ALLOW'],
      ['ptrace', [], 101, [], 'KILL_PROCESS'],
      ['uname', [], 63, [], 'LOG'],
      ['getppid', [], 110, [], 'TRACE(7)'],
      ['gettid', [], 186, [], 'KILL_THREAD'],
      ['open (not listed)', [], 2, [], 'ERRNO(13)'],
      ['number 1000', [], 1000, [], 'ERRNO(38)'],
    ];
    assert.deepEqual(rows.map(([what, caps, nr, args]) => [what, run(caps, nr, ...args)]), rows.map(([what, , , , want]) => [what, want]));
  });

  it('Docker\'s archMap form: the architectures of every entry; null lists are empty', () => {
    const p = parseProfileJson(json({
      defaultAction: 'SCMP_ACT_ERRNO',
      archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86'] }, { architecture: 'SCMP_ARCH_RISCV64', subArchitectures: null }],
      syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: null, includes: {}, excludes: {} }],
    }), 'docker.json');
    assert.deepEqual(p.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_RISCV64']);
    assert.deepEqual(p.rules[0].args, []);
    assert.deepEqual(parseProfileJson('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": null}', 'x').rules, []);
  });

  it('invalid JSON: where, by line and column', () => {
    const cases: [string, string][] = [
      ['{"defaultAction": "SCMP_ACT_ERRNO",\n  "syscalls": [\n    {"names": ["read" "write"]}]}', 'line 3, column 23: expected "," or "]" after a value in an array, got "\\""'],
      ['{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [],}', 'line 1, column 52: expected a key in double quotes, got "}"'],
      ['{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [1,]}', 'line 1, column 52: expected a value, got "]"'],
      ['{"defaultAction": "SCMP_ACT_ERRNO",\n "defaultAction": "SCMP_ACT_ALLOW"}', 'line 2, column 2: duplicate key "defaultAction"'],
      ['{"defaultAction": "SCMP_ACT_ERRNO"', 'line 1, column 35: expected "," or "}" after a value in an object, got the end of the file'],
      ['', 'line 1, column 1: expected a value, got the end of the file'],
      ['{"defaultAction": "SCMP_\\q"}', 'line 1, column 25: invalid escape in a string: \\q'],
      ['{"defaultAction": "SCMP_ACT_ERRNO\n"}', 'line 1, column 34: a control character in a string (write it as an escape such as \\n)'],
      ['{"defaultAction": "SCMP', 'line 1, column 24: unterminated string'],
      ['{"defaultAction" "SCMP_ACT_ERRNO"}', 'line 1, column 18: expected ":" after the key, got "\\""'],
      ['{} {}', 'line 1, column 4: expected the end of the file after the value, got "{"'],
    ];
    assert.deepEqual(cases.map(([text]) => problems(text)), cases.map(([, msg]) => [`seccomp (/etc/p.json): invalid JSON at ${msg}`]));
    assert.deepEqual(problems('[1]', 'a.json'), ['seccomp (a.json): expected a JSON object with defaultAction and syscalls']);
  });

  it('the JSON reader keeps integers exact, reads fractions as numbers, escapes, and a key "__proto__" as data', () => {
    assert.deepEqual(parseJson('[18446744073709551615, -1, 1.5, 2e3, "\\u00e9\\t", true, null]'), [18446744073709551615n, -1n, 1.5, 2000, 'é\t', true, null]);
    const o = parseJson('{"__proto__": 1}') as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(o), Object.prototype);
    assert.deepEqual(Object.keys(o), ['__proto__']);
    assert.deepEqual(parseJson('\ufeff{"a": []}'), { a: [] });
  });

  it('every problem at once, each with its path in the file', () => {
    assert.deepEqual(problems(json({
      syscalls: [
        { names: ['read', 'fooat', 'mkdirat2'], action: 'SCMP_ACT_ALOW' },
        { name: 'read', names: ['write'], action: 'SCMP_ACT_ALLOW', errnoRet: 1 },
        { action: 'SCMP_ACT_NOTIFY' },
        'read',
      ],
    })), [
      'seccomp (/etc/p.json): defaultAction: required',
      'seccomp (/etc/p.json): syscalls[0].names[1]: unknown syscall "fooat"',
      'seccomp (/etc/p.json): syscalls[0].names[2]: unknown syscall "mkdirat2"; did you mean "mkdirat"?',
      'seccomp (/etc/p.json): syscalls[0].action: unknown action "SCMP_ACT_ALOW"; did you mean "SCMP_ACT_ALLOW"?',
      'seccomp (/etc/p.json): syscalls[1].name: give names or name, not both',
      'seccomp (/etc/p.json): syscalls[1].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take errnoRet, not SCMP_ACT_ALLOW',
      'seccomp (/etc/p.json): syscalls[2].action: SCMP_ACT_NOTIFY is not supported: nsvisor has no seccomp agent to notify',
      'seccomp (/etc/p.json): syscalls[2].names: required',
      'seccomp (/etc/p.json): syscalls[3]: expected an object with names and action',
    ]);
  });

  it('pins the messages for values, operators, filters, flags and listeners', () => {
    assert.deepEqual(problems(json({
      defaultAction: 'SCMP_ACT_ALLOW',
      defaultErrnoRet: 5000,
      architectures: ['SCMP_ARCH_X86_65', 7],
      flags: ['SECCOMP_FILTER_FLAG_LOG', 'FLAG_X'],
      listenerPath: '/run/agent.sock',
      listenerMetadata: 'x',
      syscalls: [{
        names: 'read',
        action: 'SCMP_ACT_ERRNO',
        errnoRet: -1,
        args: [{ index: 6, value: -1, op: 'SCMP_CMP_EQUAL' }, { index: 0, value: 1.5, valueTwo: '3', op: 'SCMP_CMP_MASKED_EQ', extra: 1 }, {}],
        includes: { caps: ['CAP_SYS_ADMN', 'fly'], arches: ['amd65'], minKernel: '4' },
        excludes: { minKernel: 4.8, cap: [] },
        comment: 5,
        nmes: [],
      }],
    })), [
      'seccomp (/etc/p.json): defaultErrnoRet: expected an errno from 0 to 4095',
      'seccomp (/etc/p.json): architectures[0]: unknown architecture "SCMP_ARCH_X86_65"; did you mean "SCMP_ARCH_X86_64"?',
      'seccomp (/etc/p.json): architectures[1]: expected an architecture name',
      'seccomp (/etc/p.json): flags[0]: SECCOMP_FILTER_FLAG_LOG is not supported: nsvisor-init installs the filter with no flags',
      'seccomp (/etc/p.json): flags[1]: unknown flag "FLAG_X"',
      'seccomp (/etc/p.json): listenerPath: a listener for SCMP_ACT_NOTIFY is not supported: nsvisor has no seccomp agent to notify',
      'seccomp (/etc/p.json): listenerMetadata: a listener for SCMP_ACT_NOTIFY is not supported: nsvisor has no seccomp agent to notify',
      'seccomp (/etc/p.json): syscalls[0].names: expected a list of system call names',
      'seccomp (/etc/p.json): syscalls[0].errnoRet: expected an errno from 0 to 4095',
      'seccomp (/etc/p.json): syscalls[0].args[0].index: expected an argument index from 0 to 5',
      'seccomp (/etc/p.json): syscalls[0].args[0].value: expected an unsigned 64-bit integer',
      'seccomp (/etc/p.json): syscalls[0].args[0].op: unknown operator "SCMP_CMP_EQUAL"; did you mean "SCMP_CMP_EQ"?',
      'seccomp (/etc/p.json): syscalls[0].args[1].value: expected an unsigned 64-bit integer',
      'seccomp (/etc/p.json): syscalls[0].args[1].valueTwo: expected an unsigned 64-bit integer',
      'seccomp (/etc/p.json): syscalls[0].args[1].extra: unknown key',
      'seccomp (/etc/p.json): syscalls[0].args[2].index: required',
      'seccomp (/etc/p.json): syscalls[0].args[2].value: required',
      'seccomp (/etc/p.json): syscalls[0].args[2].op: required',
      'seccomp (/etc/p.json): syscalls[0].comment: expected a string',
      'seccomp (/etc/p.json): syscalls[0].includes.caps[0]: unknown capability "CAP_SYS_ADMN"; did you mean "CAP_SYS_ADMIN"?',
      'seccomp (/etc/p.json): syscalls[0].includes.caps[1]: unknown capability "fly"',
      'seccomp (/etc/p.json): syscalls[0].includes.arches[0]: unknown architecture "amd65"; did you mean "amd64"?',
      'seccomp (/etc/p.json): syscalls[0].includes.minKernel: expected a kernel version such as "5.12", got "4"',
      'seccomp (/etc/p.json): syscalls[0].excludes.minKernel: expected a kernel version such as "5.12"',
      'seccomp (/etc/p.json): syscalls[0].excludes.cap: unknown key; did you mean "caps"?',
      'seccomp (/etc/p.json): syscalls[0].nmes: unknown key; did you mean "names"?',
    ]);
  });

  it('checks that need the rest to be valid: architectures with archMap, defaultErrnoRet with an action that takes none', () => {
    assert.deepEqual(problems(json({
      defaultAction: 'SCMP_ACT_KILL',
      defaultErrnoRet: 1,
      architectures: ['SCMP_ARCH_X86_64'],
      archMap: [{ architecture: 'SCMP_ARCH_X86_64' }],
    })), [
      'seccomp (/etc/p.json): archMap: give architectures or archMap, not both',
      'seccomp (/etc/p.json): defaultErrnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno, not SCMP_ACT_KILL',
    ]);
  });

  it('a value above 64 bits is refused, not rounded', () => {
    const text = json({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }] }] }).replace('"value": 0', '"value": 18446744073709551616');
    assert.deepEqual(problems(text), ['seccomp (/etc/p.json): syscalls[0].args[0].value: expected an unsigned 64-bit integer']);
  });

  it('readProfileFile reads the file, and says so when it cannot', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsvisor-seccomp-'));
    try {
      const file = path.join(dir, 'p.json');
      fs.writeFileSync(file, OCI_PROFILE);
      assert.equal(readProfileFile(file).rules.length, 9);
      assert.throws(() => readProfileFile(path.join(dir, 'none.json')), { problems: [`seccomp (${dir}/none.json): cannot read: no such file`] });
      assert.throws(() => readProfileFile(dir), { problems: [`seccomp (${dir}): cannot read: is a directory`] });
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });
});
