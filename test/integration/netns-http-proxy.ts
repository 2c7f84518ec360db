// Run inside a test's network namespace: forwards HTTP requests from a unix socket (argv[2]) to 127.0.0.1 there, port from the x-port header.
import * as fs from 'fs';
import * as http from 'http';

const socketPath = process.argv[2];
fs.rmSync(socketPath, { force: true });
http
  .createServer((req, res) => {
    const out = http.request({ host: '127.0.0.1', port: Number(req.headers['x-port']), path: req.url, method: req.method, headers: { accept: req.headers.accept ?? '*/*' } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', (e) => res.writeHead(502, { 'content-type': 'text/plain' }).end(`proxy: ${e.message}\n`));
    req.pipe(out);
  })
  .listen(socketPath, () => process.stdout.write('proxy ready\n'));
