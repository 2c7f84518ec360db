// The targets checked against what was measured: met, missed (and by how much), or skipped.
import type { MemoryResult } from './init-memory';
import type { ContenderId } from './contenders';
import type { SetResult } from './spawn-latency';

export interface TargetResult {
  name: string;
  /** null: could not be checked here (a tool is missing). */
  met: boolean | null;
  detail: string;
}

export const FLOOR_RATIO_LIMIT = 1.5;

const ms = (v: number) => `${v.toFixed(3)} ms`;

function p50(set: SetResult, id: ContenderId): number | null {
  return set.contenders.find((c) => c.id === id)?.summary?.p50 ?? null;
}

function faster(set: SetResult, id: 'unshare' | 'bwrap', nsvisor: number): TargetResult {
  const name = `${set.name}: nsvisor p50 faster than ${id}`;
  const other = p50(set, id);
  if (other === null) return { name, met: null, detail: `${id} not installed, skipped` };
  const pct = ((other - nsvisor) / other) * 100;
  return nsvisor < other
    ? { name, met: true, detail: `${ms(nsvisor)} vs ${ms(other)}: ${pct.toFixed(0)}% faster` }
    : { name, met: false, detail: `${ms(nsvisor)} vs ${ms(other)}: ${ms(nsvisor - other)} (${(-pct).toFixed(0)}%) slower` };
}

export function latencyTargets(set: SetResult): TargetResult[] {
  const nsvisor = p50(set, 'nsvisor')!;
  const floor = p50(set, 'floor')!;
  const ratio = nsvisor / floor;
  const name = `${set.name}: nsvisor p50 within ${FLOOR_RATIO_LIMIT}x of the C floor`;
  const within: TargetResult =
    ratio <= FLOOR_RATIO_LIMIT
      ? { name, met: true, detail: `${ratio.toFixed(2)}x (${ms(nsvisor)} vs ${ms(floor)})` }
      : {
          name,
          met: false,
          detail: `${ratio.toFixed(2)}x (${ms(nsvisor)} vs ${ms(floor)}): ${(ratio - FLOOR_RATIO_LIMIT).toFixed(2)}x over, ${ms(nsvisor - FLOOR_RATIO_LIMIT * floor)} above ${FLOOR_RATIO_LIMIT}x the floor`,
        };
  return [within, faster(set, 'unshare', nsvisor), faster(set, 'bwrap', nsvisor)];
}

export function memoryTarget(results: MemoryResult[]): TargetResult {
  const [init, tini] = results;
  const name = 'nsvisor-init PSS at or below tini';
  if (tini.skipped || tini.pssKb === null) return { name, met: null, detail: tini.skipped ?? 'tini not measured' };
  const a = init.pssKb!;
  const b = tini.pssKb;
  return a <= b
    ? { name, met: true, detail: `${a.toFixed(0)} KiB vs ${b.toFixed(0)} KiB` }
    : { name, met: false, detail: `${a.toFixed(0)} KiB vs ${b.toFixed(0)} KiB: ${(a - b).toFixed(0)} KiB (${(((a - b) / b) * 100).toFixed(0)}%) over` };
}
