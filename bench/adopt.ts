// Time from a new `nsvisor run` to every instance adopted (after a SIGKILL of the one that started them), against a cold start of the same services.
import { ChildProcess, spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { stringify } from 'yaml';

import { closeCgroupPool, openCgroups } from '../src/cgroup';
import { detectLayout } from '../src/cgroup/detect';
import { keeperDir } from '../src/service/keeper-files';
import { f2, pageOpening } from './cgroup-bench';

const CLI = path.join(__dirname, '..', '..', 'bin', 'nsvisor');

interface Row {
  services: number;
  coldSeconds: number;
  adoptSeconds: number;
}

/** Runs `nsvisor run -c file`; resolves with the seconds until `count` output lines matched `line`, and the child. */
function runUntil(file: string, line: RegExp, count: number): Promise<{ seconds: number; child: ChildProcess }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI, 'run', '-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let seen = 0;
    let text = '';
    const onData = (d: Buffer) => {
      text += d.toString();
      const lines = text.split('\n');
      text = lines.pop()!;
      seen += lines.filter((l) => line.test(l)).length;
      if (seen === count) resolve({ seconds: (performance.now() - t0) / 1000, child });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code, signal) => reject(new Error(`nsvisor run ended (${code ?? signal}) after ${seen} of ${count} lines matching ${line}`)));
  });
}

const ended = (child: ChildProcess, signal: NodeJS.Signals) =>
  new Promise<void>((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill(signal);
  });

async function measure(services: number): Promise<Row> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsvisor-bench-adopt-'));
  const root = `/nsvisor-bench-${crypto.randomBytes(4).toString('hex')}`;
  const file = path.join(dir, 'nsvisor.yaml');
  const config = {
    supervisor: { control: path.join(dir, 'c.sock'), logDir: path.join(dir, 'logs'), metrics: 'off', cgroupRoot: root, shutdownTimeout: '120s', adoptTimeout: '120s' },
    services: Object.fromEntries(Array.from({ length: services }, (_, i) => [`s${i}`, { command: ['sleep', '3600'] }])),
  };
  fs.writeFileSync(file, stringify(config));
  try {
    const cold = await runUntil(file, /: ready \(pid/, services);
    // Each state file is written before its ready line; the listing may still trail the last line.
    const states = () => fs.readdirSync(keeperDir(root)).filter((n) => n.endsWith('.json')).length;
    while (states() < services) await new Promise((r) => setImmediate(r));
    await ended(cold.child, 'SIGKILL');
    const adopt = await runUntil(file, /: adopted /, services);
    await ended(adopt.child, 'SIGTERM');
    return { services, coldSeconds: cold.seconds, adoptSeconds: adopt.seconds };
  } finally {
    await openCgroups({ root, prepare: false }).removeRoot();
    await closeCgroupPool();
    fs.rmSync(path.dirname(keeperDir(root)), { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const sizes = (process.argv[2] ?? '10,100').split(',').map(Number);
  const rows: Row[] = [];
  for (const n of sizes) {
    process.stderr.write(`adopt: ${n} services\n`);
    rows.push(await measure(n));
  }
  const load = os.loadavg()[0];
  const page = [
    ...pageOpening('Adoption after a SIGKILL of the supervisor, against a cold start', detectLayout().kind),
    `Each time runs from spawning \`nsvisor run\` (Node's start included) until its output has a \`ready\` line (cold)`,
    `or an \`adopted\` line (after a SIGKILL of the supervisor that started them) for every service; services are`,
    `\`sleep 3600\` with the default isolation. 1-minute load average at the end: ${load.toFixed(1)}.`,
    '',
    '| services | cold start (s) | adoption (s) | adoption / cold |',
    '| ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.services} | ${f2(r.coldSeconds)} | ${f2(r.adoptSeconds)} | ${f2(r.adoptSeconds / r.coldSeconds)} |`),
    '',
  ];
  const out = path.join(__dirname, '..', '..', 'bench', 'results', 'adopt.md');
  fs.writeFileSync(out, page.join('\n'));
  process.stdout.write(page.join('\n'));
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
