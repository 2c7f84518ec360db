// Running the `nft` command (nftables): a script on stdin, or a listing as JSON; failures carry nft's own message.
import { execFile } from 'child_process';

/** nft failed (its stderr is the message), or is not installed (`missing`). */
export class NftError extends Error {
  constructor(message: string, readonly missing = false) {
    super(message);
  }
}

/** `nft ARGS`, with `input` on stdin; resolves with stdout. */
export function nft(args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('nft', args, { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return reject(new NftError('the nft command (nftables) was not found on PATH', true));
      // After each "Error:" line nft echoes the script line and underlines it: only the error lines say what went wrong.
      const lines = stderr.trim().split('\n').filter(Boolean);
      const errors = lines.filter((l) => l.includes('Error:'));
      reject(new NftError(`nft ${args.join(' ')}: ${(errors.length ? errors : lines).join('; ') || err.message}`));
    });
    child.stdin?.on('error', () => undefined); // nft that exits early: the callback reports it
    child.stdin?.end(input ?? '');
  });
}

/** The JSON listing of table `ip NAME`, or null when there is no such table. */
export async function listTable(name: string): Promise<string | null> {
  try {
    return await nft(['-j', 'list', 'table', 'ip', name]);
  } catch (e) {
    if (e instanceof NftError && !e.missing && /No such file or directory/.test(e.message)) return null;
    throw e;
  }
}
