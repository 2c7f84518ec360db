// A reload plan in words, one line per change, as `nsvisor reload` and the supervisor's output print it. Pure.
import type { ReloadPlan, ServiceChange } from './plan';

/** What a change does, in words ("update in place (resources.memory)"); null for none. */
export function changeText(c: ServiceChange): string | null {
  switch (c.kind) {
    case 'unchanged':
      return null;
    case 'add':
    case 'remove':
      return c.kind;
    case 'update':
      return `update in place (${c.keys.join(', ')})`;
    case 'replace':
      return `replace ${c.mode === 'zero-downtime' ? 'without downtime' : 'by stop, then start'} (${c.keys.join(', ')})`;
  }
}

function serviceLine(c: ServiceChange): string | null {
  const text = changeText(c);
  return text === null ? null : `${c.service}: ${text}`;
}

/** The changes in the order they apply; unchanged services are left out (and counted on a last line). */
export function planLines(plan: ReloadPlan): string[] {
  const lines = plan.services.map(serviceLine).filter((l): l is string => l !== null);
  for (const n of plan.networks) lines.push(`network ${n.network}: ${n.kind}${n.kind === 'update' ? ` (${n.keys.join(', ')})` : ''}`);
  for (const k of plan.supervisor) lines.push(`supervisor.${k}: update`);
  const same = plan.services.filter((s) => s.kind === 'unchanged').length;
  if (same) lines.push(`${same} service${same === 1 ? '' : 's'} unchanged`);
  return lines;
}
