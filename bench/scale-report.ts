// The scale bench's page: per N a table of the three supervisors side by side, the log writer's table, the targets.
import type { ScaleResult } from './scale';
import type { ScaleRun } from './scale-measure';

const MB = 1024 * 1024;

const ROWS: [string, (r: ScaleRun) => string][] = [
  ['time until all run', (r) => `${r.startSeconds.toFixed(2)} s`],
  ['supervisor RSS', (r) => `${(r.rssBytes / MB).toFixed(1)} MB`],
  ['supervisor PSS', (r) => `${(r.pssBytes / MB).toFixed(1)} MB`],
  ['idle CPU', (r) => `${r.idleCpuPercent.toFixed(3)} %`],
  ['idle context switches', (r) => `${r.idleSwitchesPerSecond.toFixed(1)} /s`],
  ['status command', (r) => `${r.statusMs.toFixed(0)} ms`],
  ['time to stop all', (r) => `${r.stopSeconds.toFixed(2)} s`],
];

function targets(r: ScaleResult): { what: string; met: boolean; value: string }[] {
  const out: { what: string; met: boolean; value: string }[] = [];
  const at = (n: number, tool: string) => r.quiet.find((q) => q.services === n && q.tool === tool);
  for (const n of r.options.counts) {
    const [ns, sv, pm] = [at(n, 'nsvisor'), at(n, 'supervisord'), at(n, 'pm2')];
    if (!ns || !sv || !pm) continue;
    out.push({ what: `${n}: start faster than both`, met: ns.startSeconds < Math.min(sv.startSeconds, pm.startSeconds), value: `${ns.startSeconds.toFixed(2)} s` });
    out.push({ what: `${n}: stop faster than both`, met: ns.stopSeconds < Math.min(sv.stopSeconds, pm.stopSeconds), value: `${ns.stopSeconds.toFixed(2)} s` });
    if (n >= 1000) {
      out.push({ what: `${n}: idle CPU < 0.05 %`, met: ns.idleCpuPercent < 0.05, value: `${ns.idleCpuPercent.toFixed(3)} %` });
      out.push({ what: `${n}: RSS below PM2's`, met: ns.rssBytes < pm.rssBytes, value: `${(ns.rssBytes / MB).toFixed(1)} MB` });
      out.push({ what: `${n}: nsvisor status < 300 ms`, met: ns.statusMs < 300, value: `${ns.statusMs.toFixed(0)} ms` });
    }
  }
  const [nl, sl] = [r.logs.find((l) => l.tool === 'nsvisor'), r.logs.find((l) => l.tool === 'supervisord')];
  if (nl) out.push({ what: 'logs: supervisor CPU < 0.5 µs/line', met: nl.cpuMicrosPerLine < 0.5, value: `${nl.cpuMicrosPerLine.toFixed(3)} µs` });
  if (nl && sl) out.push({ what: "logs: wall time no worse than supervisord's", met: nl.wallSeconds <= sl.wallSeconds, value: `${nl.wallSeconds.toFixed(2)} s` });
  return out;
}

export function scaleMarkdown(r: ScaleResult): string {
  const m = r.machine;
  const tools = ['nsvisor', 'supervisord', 'pm2'] as const;
  const lines = [
    '# Scale, side by side',
    '',
    `${m.date}, kernel ${m.kernel}, node ${m.node}, ${m.cpus} cpus (${m.cpuModel}); nsvisor ${r.versions.nsvisor}, supervisord ${r.versions.supervisord}, PM2 ${r.versions.pm2}.`,
    '',
    'Each service `sleep infinity` (nsvisor: default isolation and limits; supervisord: `startsecs=0`; PM2: fork mode, `interpreter: none`).',
    "\"Time until all run\" ends at the first of the tool's own status commands (polled every 50 ms) that reports all running; memory from",
    `/proc/PID/smaps_rollup of the supervisor (PM2: its God daemon) at the end of the idle window; idle CPU and context switches over ${r.options.idleSeconds} s (from 60 s after, when V8 has given back the memory of the start);`,
    `the status command's median of ${r.options.statusRounds} (nsvisor status --json, supervisorctl status, pm2 jlist); the stop until the`,
    'supervisor and every process that was below it are gone (SIGTERM to nsvisor and supervisord, `pm2 kill`).',
  ];
  for (const n of r.options.counts) {
    const runs = tools.map((t) => r.quiet.find((q) => q.services === n && q.tool === t));
    lines.push('', `## ${n} services`, '', '| | nsvisor | supervisord | PM2 |', '|---|---|---|---|');
    for (const [label, cell] of ROWS) lines.push(`| ${label} | ${runs.map((x) => (x ? cell(x) : '-')).join(' | ')} |`);
  }
  lines.push(
    '',
    `## Logs at speed: ${r.options.lines.toLocaleString('en')} lines`,
    '',
    'One service `seq N`, released through a FIFO once the supervisor is idle, until its last line is in the log file (nsvisor',
    "timestamps each line; supervisord and PM2 as they write by default, without). CPU: the supervisor's over the same window.",
    '',
    '| | wall time | supervisor CPU per line |',
    '|---|---|---|',
    ...r.logs.map((l) => `| ${l.tool} | ${l.wallSeconds.toFixed(2)} s | ${l.cpuMicrosPerLine.toFixed(3)} µs |`),
    '',
    '| target | nsvisor | met |',
    '|---|---|---|',
    ...targets(r).map((t) => `| ${t.what} | ${t.value} | ${t.met ? 'yes' : 'no'} |`),
    '',
  );
  return lines.join('\n');
}
