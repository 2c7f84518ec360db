// Unit tests of the reload rules at adoption: the definition an adopted instance runs against this configuration's (pure).
import { strict as assert } from 'assert';

import { adoptionChange } from '../../src/reload/adoption';
import { definitionDigest } from '../../src/service/keeper-files';
import { settingsOf } from './service-fakes';

/** The definition-related fields of a state file of an instance of `settings` in slot `slot`. */
const stateOf = (settings: ReturnType<typeof settingsOf>, slot = 0, withDefinition = true) => ({
  service: 'svc', slot, definition: definitionDigest(settings), settings: withDefinition ? JSON.parse(JSON.stringify(settings)) : null,
});

describe('reload rules at adoption', () => {
  const base = settingsOf({ command: ['/bin/sleep', '100'], resources: { memory: '64M' }, instances: 2 });

  it('the same definition (read back from JSON) is adopted untouched, whatever the order of its keys', () => {
    assert.deepEqual(adoptionChange(stateOf(base), base), { kind: 'adopt' });
    const reordered = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(base).reverse())));
    assert.deepEqual(adoptionChange({ ...stateOf(base), settings: reordered }, base), { kind: 'adopt' });
  });

  it('a changed limit or restart policy is applied live, as reload does', () => {
    const next = settingsOf({ command: ['/bin/sleep', '100'], resources: { memory: '128M' }, restart: { policy: 'always' }, instances: 2 });
    assert.deepEqual(adoptionChange(stateOf(base), next), {
      kind: 'update', keys: ['resources.memory', 'restart.policy'], action: 'definition changed: update in place (resources.memory, restart.policy)',
    });
  });

  it('a lowered or raised instance count changes nothing of an instance still in range', () => {
    assert.deepEqual(adoptionChange(stateOf(base, 0), { ...base, instances: 1 }), { kind: 'adopt' });
    assert.deepEqual(adoptionChange(stateOf(base, 1), { ...base, instances: 3 }), { kind: 'adopt' });
  });

  it('a changed command replaces it: without downtime with listen, else by stop then start', () => {
    const next = settingsOf({ command: ['/bin/sleep', '200'], resources: { memory: '64M' }, instances: 2 });
    assert.deepEqual(adoptionChange(stateOf(base), next), {
      kind: 'replace', keys: ['command'], mode: 'stop-start', action: 'definition changed: replace by stop, then start (command)',
    });
    const listening = settingsOf({ command: ['/bin/sleep', '100'], listen: ['tcp://127.0.0.1:1'] });
    const change = adoptionChange(stateOf(listening), { ...listening, env: { MODE: 'b' } });
    assert.deepEqual([change.kind, change.kind === 'replace' && change.mode], ['replace', 'zero-downtime']);
  });

  it('an instance of a service gone, or beyond a lowered count, is stopped', () => {
    assert.deepEqual(adoptionChange(stateOf(base, 1), undefined), { kind: 'stop', action: 'not in this configuration (no service svc): stop' });
    assert.deepEqual(adoptionChange(stateOf(base, 1), { ...base, instances: 1 }), { kind: 'stop', action: 'not in this configuration (instances: 1): stop' });
  });

  it('a state file of an older nsvisor (digest only) is adopted when the digest matches, else refused with why', () => {
    assert.deepEqual(adoptionChange(stateOf(base, 0, false), base), { kind: 'adopt' });
    const changed = adoptionChange(stateOf(base, 0, false), { ...base, command: ['/bin/true'] });
    assert.equal(changed.kind, 'refuse');
    assert.match(changed.kind === 'refuse' ? changed.why : '', /holds no definition to plan from: not adopted, started anew/);
    assert.equal(adoptionChange(stateOf(base, 1, false), undefined).kind, 'refuse');
  });
});
