// Which rules of a profile hold for one target (architecture, kept capabilities, kernel), by system call number.
import { capabilityName } from '../config/capabilities';
import { archInfo, Arch } from './arch';
import type { ArgCondition, RuleFilter, SeccompAction, SeccompProfile } from './profile';

export interface Target {
  arch: Arch;
  /** The capabilities the process keeps, CAP_* or bare names. */
  capabilities: readonly string[];
  /** [major, minor] of the kernel, for `minKernel`. */
  kernel: [number, number];
}

/** One way a call can be decided: when every condition holds, the action. */
export interface Alternative {
  action: SeccompAction;
  conditions: ArgCondition[];
}

const atLeast = (kernel: [number, number], min: [number, number]) => kernel[0] > min[0] || (kernel[0] === min[0] && kernel[1] >= min[1]);

function normalizedCaps(names: readonly string[]): Set<string> {
  return new Set(
    names.map((n) => {
      const name = capabilityName(n);
      if (!name) throw new Error(`seccomp: unknown capability "${n}"`);
      return name;
    }),
  );
}

/** Docker's rule: any part of `excludes` that holds drops the rule; every part of `includes` must hold to keep it. */
function applies(t: Target, caps: Set<string>, includes: RuleFilter = {}, excludes: RuleFilter = {}): boolean {
  const arch = archInfo(t.arch).profileName;
  if (excludes.arches?.includes(arch) || excludes.caps?.some((c) => caps.has(c))) return false;
  if (excludes.minKernel && atLeast(t.kernel, excludes.minKernel)) return false;
  if (includes.arches?.length && !includes.arches.includes(arch)) return false;
  if (includes.caps && !includes.caps.every((c) => caps.has(c))) return false;
  return !includes.minKernel || atLeast(t.kernel, includes.minKernel);
}

/** As runc does: conditions on distinct arguments must all hold; once two name the same argument, any one suffices. */
function alternativesOf(action: SeccompAction, args: ArgCondition[]): Alternative[] {
  const indexes = new Set(args.map((a) => a.index));
  if (indexes.size === args.length) return [{ action, conditions: args }];
  return args.map((a) => ({ action, conditions: [a] }));
}

/** For each number the target's table has a rule for: the alternatives in profile order, up to the first without
    conditions (nothing after it can be reached). Names the architecture lacks are skipped, as libseccomp does. */
export function rulesByNumber(profile: SeccompProfile, t: Target): Map<number, Alternative[]> {
  const caps = normalizedCaps(t.capabilities);
  const table = archInfo(t.arch).syscalls;
  const out = new Map<number, Alternative[]>();
  for (const rule of profile.rules) {
    if (!applies(t, caps, rule.includes, rule.excludes)) continue;
    for (const name of rule.names) {
      const nr = table.get(name);
      if (nr === undefined) continue;
      const list = out.get(nr) ?? [];
      if (list.some((a) => a.conditions.length === 0)) continue;
      list.push(...alternativesOf(rule.action, rule.args ?? []));
      out.set(nr, list);
    }
  }
  return out;
}
