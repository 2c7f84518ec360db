// An HTTP server for zero-downtime restarts under nsvisor: it serves on the sockets the supervisor holds (fds 3..,
// LISTEN_FDS), says when it is ready, and on SIGTERM stops accepting and finishes what it has before exiting.
'use strict';
const fs = require('fs');
const http = require('http');

// A file only this instance sees (its own tmpfs at /tmp): `ready.exec: [test, -e, /tmp/ready]` checks the new
// instance itself, where a request to the shared port could be answered by the old one.
const READY_FILE = process.env.READY_FILE || '/tmp/ready';
// Sockets handed over by the supervisor are fds 3, 4, ... (only when LISTEN_PID names this process).
const inherited = process.env.LISTEN_PID === String(process.pid) ? Number(process.env.LISTEN_FDS) || 0 : 0;
const START = new Date().toISOString();
let draining = false;

function handle(req, res) {
  const url = new URL(req.url, 'http://localhost');
  // /work?ms=N answers after N ms: a request in flight while a restart drains this instance.
  const delay = url.pathname === '/work' ? Math.min(Number(url.searchParams.get('ms')) || 0, 60000) : 0;
  setTimeout(() => {
    if (draining) res.setHeader('connection', 'close'); // no keep-alive into an instance that is leaving
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ pid: process.pid, path: url.pathname, startedAt: START }) + '\n');
  }, delay);
}

// One server per socket; without inherited sockets (run by hand) it binds a port of its own.
const targets = inherited ? Array.from({ length: inherited }, (_, i) => ({ fd: 3 + i })) : [{ port: Number(process.env.PORT) || 8080, host: '127.0.0.1' }];
const servers = targets.map((t) => http.createServer(handle).listen(t));
Promise.all(servers.map((s) => new Promise((r) => s.once('listening', r)))).then(() => {
  fs.writeFileSync(READY_FILE, `${process.pid}\n`);
  const what = inherited ? `fds 3..${2 + inherited} (${process.env.LISTEN_FDNAMES})` : `port ${servers[0].address().port}`;
  console.log(`serving on ${what}, pid ${process.pid}`);
});

process.once('SIGTERM', () => {
  draining = true;
  console.log('SIGTERM: no new connections; finishing the requests in flight');
  // close() stops accepting (the sockets stay open in the supervisor and the new instance) and calls back once
  // every connection has ended; idle keep-alive connections are closed at once.
  let open = servers.length;
  for (const s of servers) {
    s.close(() => --open === 0 && process.exit(0));
    s.closeIdleConnections();
  }
});
