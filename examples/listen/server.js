// An HTTP server for zero-downtime restarts under nsvisor: it serves on the sockets the supervisor holds (fds 3..,
// LISTEN_FDS), says when it is ready, and on SIGTERM stops accepting and finishes what it has before exiting,
// keep-alive connections included.
'use strict';
const fs = require('fs');
const http = require('http');
const net = require('net');

// A file only this instance sees (its own tmpfs at /tmp): `ready.exec: [test, -e, /tmp/ready]` checks the new
// instance itself, where a request to the shared port could be answered by the old one.
const READY_FILE = process.env.READY_FILE || '/tmp/ready';
// Sockets handed over by the supervisor are fds 3, 4, ... (only when LISTEN_PID names this process).
const inherited = process.env.LISTEN_PID === String(process.pid) ? Number(process.env.LISTEN_FDS) || 0 : 0;
const START = new Date().toISOString();
// While draining, a keep-alive connection is closed once it has been idle this long: a client between two
// requests sends its next one within a moment, and closing under it would reset that request.
const IDLE_CLOSE_MS = 1000;
let draining = false;
/** Open connections: the requests in progress on each, and when the last one ended. */
const connections = new Map();

function handle(req, res) {
  const url = new URL(req.url, 'http://localhost');
  // /work?ms=N answers after N ms: a request in flight while a restart drains this instance.
  const delay = url.pathname === '/work' ? Math.min(Number(url.searchParams.get('ms')) || 0, 60000) : 0;
  setTimeout(() => {
    if (draining) res.setHeader('connection', 'close'); // no keep-alive into an instance that is leaving
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ pid: process.pid, path: url.pathname, startedAt: START, version: process.env.APP_VERSION || null }) + '\n');
  }, delay);
}

function track(server) {
  server.on('connection', (socket) => {
    connections.set(socket, { active: 0, idleSince: Date.now() });
    socket.once('close', () => connections.delete(socket));
  });
  server.on('request', (req, res) => {
    const c = connections.get(req.socket);
    if (!c) return;
    c.active++;
    res.once('close', () => {
      c.active--;
      c.idleSince = Date.now();
    });
  });
  return server;
}

// One server per socket; without inherited sockets (run by hand) it binds a port of its own.
const targets = inherited ? Array.from({ length: inherited }, (_, i) => ({ fd: 3 + i })) : [{ port: Number(process.env.PORT) || 8080, host: '127.0.0.1' }];
const servers = targets.map((t) => track(http.createServer(handle)).listen(t));
Promise.all(servers.map((s) => new Promise((r) => s.once('listening', r)))).then(() => {
  fs.writeFileSync(READY_FILE, `${process.pid}\n`);
  const what = inherited ? `fds 3..${2 + inherited} (${process.env.LISTEN_FDNAMES})` : `port ${servers[0].address().port}`;
  console.log(`serving on ${what}, pid ${process.pid}`);
});

process.once('SIGTERM', () => {
  draining = true;
  console.log('SIGTERM: no new connections; finishing the requests in flight');
  // Stop accepting (the sockets stay open in the supervisor and the new instance); the callback comes once every
  // connection has ended. net.Server's close, not http.Server's: that one would also close every idle keep-alive
  // connection at once, under a client that is just sending its next request on it.
  let open = servers.length;
  for (const s of servers) net.Server.prototype.close.call(s, () => --open === 0 && process.exit(0));
  // Busy connections end after their answer (it says "connection: close"); idle ones once they have stayed idle.
  setInterval(() => {
    for (const [socket, c] of connections) if (c.active === 0 && Date.now() - c.idleSince >= IDLE_CLOSE_MS) socket.end();
  }, 100).unref();
});
