// Unit tests of the status table and duration formatting.
import { strict as assert } from 'assert';

import { duration } from '../../src/cli/format';
import { statusTable } from '../../src/cli/status';
import { noExits } from '../../src/launch/exit-reason';

describe('status table', () => {
  it('formats durations compactly', () => {
    assert.deepEqual([0, 59, 60, 125, 3600, 3725, 90000].map(duration), ['0s', '59s', '1m', '2m5s', '1h', '1h2m', '1d1h']);
  });

  it('shows state, pid, uptime, restarts and the last exit with its age', () => {
    const now = Date.parse('2026-01-01T00:10:00Z');
    const text = statusTable(
      [
        { name: 'web', state: 'running', pid: 4242, initPid: 4240, startedAt: '2026-01-01T00:00:00Z', uptimeSeconds: 600, starts: 1, restarts: 0, reaped: 0, lastExit: null, exits: noExits(), failure: null, warning: null, statusText: 'Serving', nextStartAt: null, cpuSeconds: 12.34, memoryBytes: 12 * 2 ** 20, memoryLimitBytes: 64 * 2 ** 20, cgroupProcs: [], user: null, capabilities: null, ambient: false, noNewPrivileges: false, seccomp: null, network: null, desiredInstances: 1, runningInstances: 1, instances: null },
        { name: 'worker', state: 'backoff', pid: null, initPid: null, startedAt: null, uptimeSeconds: null, starts: 4, restarts: 3, reaped: 2, lastExit: { code: 1, signal: null, reason: 'error', at: '2026-01-01T00:09:58Z' }, exits: { ...noExits(), error: 3 }, failure: null, warning: null, statusText: null, nextStartAt: '2026-01-01T00:10:04Z', cpuSeconds: null, memoryBytes: null, memoryLimitBytes: null, cgroupProcs: [], user: null, capabilities: null, ambient: false, noNewPrivileges: false, seccomp: null, network: null, desiredInstances: 1, runningInstances: 1, instances: null },
      ],
      now,
    );
    assert.equal(
      text,
      [
        'NAME    STATE                  PID   UPTIME  RESTARTS  LAST EXIT        CPU    MEMORY       NOTE',
        'web     running                4242  10m     0         -                12.3s  12Mi / 64Mi  Serving',
        'worker  backoff (retry in 4s)  -     -       3         error 1, 2s ago  -      -',
      ].join('\n'),
    );
  });
});
