// The example's background worker: a tick every few seconds, and a clean exit on SIGTERM.
let ticks = 0;
const timer = setInterval(() => console.log(`tick ${++ticks}`), 5000);
process.on('SIGTERM', () => {
  clearInterval(timer);
  console.log(`SIGTERM after ${ticks} ticks: done`);
  process.exit(0);
});
