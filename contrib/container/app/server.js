// The example's web app: answers on $PORT, and on SIGTERM stops taking connections and exits once they are done.
const http = require('http');

const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ ok: true, path: req.url, pid: process.pid }) + '\n');
});
server.listen(Number(process.env.PORT || 8080), () => console.log(`listening on ${server.address().port}`));
process.on('SIGTERM', () => {
  console.log('SIGTERM: closing');
  server.close(() => process.exit(0));
});
