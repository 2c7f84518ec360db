// Dependency order of services: cycles found for error messages, and start levels for the supervisor.

/** Each dependency cycle once, as the names along it with the first repeated at the end (web -> api -> web). */
export function findCycles(deps: Map<string, string[]>): string[][] {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (name: string) => {
    state.set(name, 'visiting');
    stack.push(name);
    for (const dep of deps.get(name) ?? []) {
      if (!deps.has(dep)) continue;
      if (state.get(dep) === 'visiting') cycles.push([...stack.slice(stack.indexOf(dep)), dep]);
      else if (!state.has(dep)) visit(dep);
    }
    stack.pop();
    state.set(name, 'done');
  };
  for (const name of deps.keys()) if (!state.has(name)) visit(name);
  return cycles;
}

/**
 * Services in levels: each level's dependencies are all in earlier levels, so a supervisor can start level by
 * level (in parallel within one) and stop in reverse. Names keep the order of the configuration inside a level.
 */
export function dependencyOrder(config: { services: Record<string, { dependsOn: string[] }> }): string[][] {
  const left = new Map(Object.entries(config.services).map(([name, s]) => [name, s.dependsOn]));
  const placed = new Set<string>();
  const levels: string[][] = [];
  while (left.size) {
    const level = [...left].filter(([, deps]) => deps.every((d) => placed.has(d))).map(([name]) => name);
    if (!level.length) throw new Error(`dependency cycle or unknown dependency among ${[...left.keys()].join(', ')}`);
    for (const name of level) {
      left.delete(name);
      placed.add(name);
    }
    levels.push(level);
  }
  return levels;
}
