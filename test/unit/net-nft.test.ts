// Unit tests of the nft runner's errors, with stand-in `nft` scripts on PATH: nft's error lines kept, a missing nft said plainly.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { listTable, nft, NftError } from '../../src/net/nft';

describe('net: the nft runner', () => {
  const saved = process.env.PATH;
  let dir: string;

  /** PATH holds only a `nft` shell script with this body (shell builtins only), or nothing at all. */
  function fakeNft(body: string | null): void {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsv-fake-nft-'));
    if (body !== null) fs.writeFileSync(path.join(dir, 'nft'), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    process.env.PATH = dir;
  }

  afterEach(() => {
    process.env.PATH = saved;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps nft\'s error lines and drops the echoed script line and its underline', async () => {
    fakeNft(`while read -r line; do :; done; printf '%s\\n' '/dev/stdin:2:1-9: Error: Could not process rule: File exists' 'add chain ip nsvisor x' '^^^^^^^^^' >&2; exit 1`);
    const e = await nft(['-f', '-'], 'add table ip nsvisor\n').catch((err) => err);
    assert.ok(e instanceof NftError && !e.missing);
    assert.equal(e.message, 'nft -f -: /dev/stdin:2:1-9: Error: Could not process rule: File exists');
  });

  it('says when nft is not installed', async () => {
    fakeNft(null);
    const e = await nft(['list', 'ruleset']).catch((err) => err);
    assert.ok(e instanceof NftError && e.missing, String(e));
    assert.match(e.message, /the nft command \(nftables\) was not found/);
  });

  it('reads a missing table as null, and passes stdout through', async () => {
    fakeNft(`[ "$3" = table ] && [ "$5" = gone ] && { echo 'Error: No such file or directory' >&2; exit 1; }; echo '{"nftables": []}'`);
    assert.equal(await listTable('gone'), null);
    assert.equal((await listTable('nsvisor'))?.trim(), '{"nftables": []}');
  });
});
