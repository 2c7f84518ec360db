// Unit tests of the nftables text for NAT: the script of a network, and reading chain owners back from `nft -j` output.
import { strict as assert } from 'assert';

import { addScript, chainOwners, deleteScript, natChains } from '../../src/net/nat';

describe('net: nat scripts', () => {
  it('makes, empties and fills both chains of a network in one script, every rule tagged with the pid', () => {
    const script = addScript({ name: 'nsv0', cidr: '10.88.0.0/24' }, 4242);
    const lines = script.trim().split('\n');
    assert.equal(lines[0], 'add table ip nsvisor');
    // Emptied right after being made: running the script again leaves one copy.
    for (const chain of natChains('nsv0')) {
      const made = lines.findIndex((l) => l.startsWith(`add chain ip nsvisor ${chain} {`));
      assert.equal(lines[made + 1], `flush chain ip nsvisor ${chain}`);
    }
    assert.ok(lines.includes('add rule ip nsvisor nat-nsv0 ip saddr 10.88.0.0/24 oifname != "nsv0" masquerade comment "nsvisor pid 4242"'));
    assert.equal(lines.filter((l) => l.startsWith('add rule')).length, 3);
    assert.ok(lines.filter((l) => l.startsWith('add rule')).every((l) => l.endsWith('comment "nsvisor pid 4242"')));
  });

  it('deletes chains in one script', () => {
    assert.equal(deleteScript(natChains('a')), 'delete chain ip nsvisor nat-a\ndelete chain ip nsvisor fwd-a\n');
  });

  it('reads each chain\'s owner from its rules\' comments; untagged chains have none', () => {
    const listing = JSON.stringify({
      nftables: [
        { metainfo: { version: '1.0.6' } },
        { table: { family: 'ip', name: 'nsvisor' } },
        { chain: { family: 'ip', table: 'nsvisor', name: 'nat-a' } },
        { chain: { family: 'ip', table: 'nsvisor', name: 'fwd-a' } },
        { chain: { family: 'ip', table: 'nsvisor', name: 'other' } },
        { rule: { chain: 'nat-a', comment: 'nsvisor pid 17', expr: [] } },
        { rule: { chain: 'fwd-a', expr: [] } },
        { rule: { chain: 'fwd-a', comment: 'nsvisor pid 17', expr: [] } },
        { rule: { chain: 'other', comment: 'hand-made', expr: [] } },
      ],
    });
    assert.deepEqual([...chainOwners(listing)], [['nat-a', 17], ['fwd-a', 17], ['other', null]]);
  });
});
