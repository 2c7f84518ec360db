// Scale, side by side: N quiet services and one fast log writer under nsvisor, supervisord and PM2 in one run (`node dist/bench/scale.js [--n 100,1000] [--tools nsvisor,...] [--lines N, 0 for none] [--idle S]`).
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { openCgroups } from '../src/cgroup';
import { machineInfo, MachineInfo } from './machine';
import { Manager, Tool } from './scale-manager';
import { LogRun, measureLogs, measureQuiet, ScaleRun } from './scale-measure';
import { nsvisorManager } from './scale-nsvisor';
import { peersIn } from './scale-peers';
import { pm2Manager } from './scale-pm2';
import { scaleMarkdown } from './scale-report';
import { supervisordManager } from './scale-supervisord';

export interface ScaleOptions {
  counts: number[];
  tools: Tool[];
  lines: number;
  idleSeconds: number;
  statusRounds: number;
  /** Where the peers are fetched to (kept between runs). */
  scratch: string;
}

export interface ScaleResult {
  machine: MachineInfo;
  versions: Record<Tool, string>;
  options: Omit<ScaleOptions, 'scratch'>;
  quiet: ScaleRun[];
  logs: LogRun[];
}

const TOOLS: Tool[] = ['nsvisor', 'supervisord', 'pm2'];

export async function measureScale(o: ScaleOptions): Promise<ScaleResult> {
  const peers = peersIn(o.scratch);
  const root = `/nsvisor-test-scale-${crypto.randomBytes(4).toString('hex')}`;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nsvisor-bench-scale-'));
  let k = 0;
  const managerFor = (tool: Tool): { m: Manager; dir: string } => {
    const dir = path.join(work, `${tool}-${k++}`);
    fs.mkdirSync(dir);
    if (tool === 'nsvisor') return { m: nsvisorManager(dir, `${root}/bench-${k}`), dir };
    if (tool === 'supervisord') return { m: supervisordManager(dir, peers.supervisorPath), dir };
    return { m: pm2Manager(dir, peers.pm2Cli), dir };
  };
  const quiet: ScaleRun[] = [];
  const logs: LogRun[] = [];
  try {
    for (const n of o.counts) {
      for (const tool of o.tools) {
        const { m } = managerFor(tool);
        try {
          quiet.push(await measureQuiet(m, n, o));
        } finally {
          await m.cleanup();
        }
      }
    }
    for (const tool of o.lines ? o.tools : []) {
      const { m, dir } = managerFor(tool);
      try {
        const r = await measureLogs(m, dir, o.lines);
        process.stderr.write(`  ${tool} logs: ${r.wallSeconds.toFixed(2)} s, ${r.cpuMicrosPerLine.toFixed(3)} µs/line\n`);
        logs.push(r);
      } finally {
        await m.cleanup();
      }
    }
  } finally {
    await openCgroups({ root, prepare: false }).removeRoot();
    fs.rmSync(work, { recursive: true, force: true });
  }
  const { scratch: _scratch, ...options } = o;
  return {
    machine: machineInfo(),
    versions: { nsvisor: require('../../package.json').version, supervisord: peers.supervisorVersion, pm2: peers.pm2Version },
    options,
    quiet,
    logs,
  };
}

/** The options from the environment and `--n 100,1000 --lines N --idle S`. */
export function scaleOptions(argv: string[]): ScaleOptions {
  const flag = (name: string, fallback: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
  };
  const number = (name: string, text: string) => {
    const v = Number(text);
    if (!Number.isInteger(v) || v < 0) throw new Error(`scale bench: --${name}: expected a whole number, got ${JSON.stringify(text)}`);
    return v;
  };
  return {
    tools: flag('tools', TOOLS.join(',')).split(',').map((t) => {
      if (!(TOOLS as string[]).includes(t)) throw new Error(`scale bench: --tools: expected some of ${TOOLS.join(', ')}, got ${JSON.stringify(t)}`);
      return t as Tool;
    }),
    counts: flag('n', process.env.BENCH_SCALE_N ?? '100,1000').split(',').map((t) => number('n', t)).filter((n) => n > 0), // --n 0: the log writer alone
    lines: number('lines', flag('lines', process.env.BENCH_SCALE_LINES ?? '2000000')),
    idleSeconds: number('idle', flag('idle', process.env.BENCH_SCALE_IDLE ?? '30')),
    statusRounds: 5,
    scratch: process.env.BENCH_SCRATCH ?? '/var/tmp/nsvisor-bench-scale',
  };
}

export { scaleMarkdown };

if (require.main === module) {
  const resultsDir = path.resolve(__dirname, '..', '..', 'bench', 'results');
  measureScale(scaleOptions(process.argv.slice(2)))
    .then((r) => {
      fs.writeFileSync(path.join(resultsDir, 'scale.json'), JSON.stringify(r, null, 2) + '\n');
      fs.writeFileSync(path.join(resultsDir, 'scale.md'), scaleMarkdown(r));
      process.stdout.write(scaleMarkdown(r));
    })
    .catch((e: Error) => {
      process.stderr.write(`scale bench failed: ${e.stack ?? e.message}\n`);
      process.exit(1);
    });
}
