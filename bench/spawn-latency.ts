// Spawn latency: every contender of every isolate set run once per round, rounds shuffled, summarized as p50/p90 and ratios to the C floor.
import type { Namespace } from '../src/config/isolation';
import { Contender, ContenderId, contendersFor, Skipped } from './contenders';
import { buildFloor } from './floor';
import { seededRandom, shuffled, Summary, summarize } from './stats';

export interface IsolateSet {
  name: string;
  namespaces: Namespace[];
}

export interface LatencyOptions {
  sets: IsolateSet[];
  /** Measured rounds: each contender runs once per round. */
  rounds: number;
  /** Rounds run first and thrown away (page cache, JIT, allocator). */
  warmup: number;
  seed: number;
  progress?: (done: number, total: number) => void;
}

export interface ContenderResult {
  id: ContenderId;
  label: string;
  command: string;
  summary: Summary | null;
  /** p50 and p90 divided by the C floor's. */
  ratioP50: number | null;
  ratioP90: number | null;
  skipped: string | null;
}

export interface SetResult {
  name: string;
  namespaces: Namespace[];
  contenders: ContenderResult[];
}

interface Entry {
  set: number;
  contender: Contender;
  samples: number[];
}

export async function measureSpawnLatency(opts: LatencyOptions): Promise<SetResult[]> {
  const floorBinary = buildFloor();
  const perSet = opts.sets.map((s) => contendersFor(s.namespaces, floorBinary));
  const entries: Entry[] = perSet.flatMap((p, set) => p.contenders.map((contender) => ({ set, contender, samples: [] as number[] })));
  const random = seededRandom(opts.seed);
  const total = opts.warmup + opts.rounds;
  try {
    for (let round = 0; round < total; round++) {
      for (const e of shuffled(entries, random)) {
        const ms = await e.contender.once();
        if (round >= opts.warmup) e.samples.push(ms);
      }
      opts.progress?.(round + 1, total);
    }
  } finally {
    await Promise.all(entries.map((e) => e.contender.close()));
  }
  return opts.sets.map((s, i) => resultFor(s, entries.filter((e) => e.set === i), perSet[i].skipped));
}

function resultFor(set: IsolateSet, entries: Entry[], skipped: Skipped[]): SetResult {
  const measured = entries.map((e) => ({ e, summary: summarize(e.samples) }));
  const floor = measured.find((m) => m.e.contender.id === 'floor')!.summary;
  const contenders: ContenderResult[] = measured.map(({ e, summary }) => ({
    id: e.contender.id,
    label: e.contender.label,
    command: e.contender.command,
    summary,
    ratioP50: summary.p50 / floor.p50,
    ratioP90: summary.p90 / floor.p90,
    skipped: null,
  }));
  for (const s of skipped) contenders.push({ id: s.id, label: s.label, command: '', summary: null, ratioP50: null, ratioP90: null, skipped: s.reason });
  const order: ContenderId[] = ['floor', 'floorSteps', 'nsvisor', 'unshare', 'bwrap'];
  contenders.sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
  return { name: set.name, namespaces: set.namespaces, contenders };
}
