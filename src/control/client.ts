// The CLI side of the control API: one HTTP request over the supervisor's unix socket.
import * as http from 'http';

import { CliError } from '../cli/errors';

/** The supervisor does not answer on its socket: exit 3 (SPEC section 1). */
export class UnreachableError extends CliError {
  constructor(socketPath: string, why: string) {
    super(`no supervisor is running on ${socketPath} (${why}); start one with \`nsvisor run\``, 3);
  }
}

export interface Reply {
  status: number;
  body: any;
}

/** Sends a request and resolves with the parsed JSON reply; `onText` streams a text/plain reply instead. */
export function request(socketPath: string, method: string, path: string, onText?: (chunk: string) => void): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path }, (res) => {
      res.setEncoding('utf8');
      let text = '';
      const streaming = onText && res.statusCode === 200 && String(res.headers['content-type']).startsWith('text/plain');
      res.on('data', (chunk: string) => (streaming ? onText!(chunk) : (text += chunk)));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: streaming ? null : JSON.parse(text || 'null') });
        } catch {
          reject(new CliError(`unexpected reply from the supervisor: ${text.slice(0, 200)}`, 1));
        }
      });
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') reject(new UnreachableError(socketPath, e.code));
      else if (e.code === 'EACCES') reject(new CliError(`${socketPath}: permission denied (the control socket is for its owner only)`, 3));
      else reject(e);
    });
    req.end();
  });
}

/** Like request(), but an error reply becomes a CliError carrying the supervisor's message (exit 1). */
export async function call(socketPath: string, method: string, path: string): Promise<any> {
  const r = await request(socketPath, method, path);
  if (r.status !== 200) throw new CliError(r.body?.error ?? `the supervisor answered ${r.status}`, 1);
  return r.body;
}
