// Pids this process waits for itself (service inits, probe commands): the orphan reaper must leave them alone.
const owned = new Set<number>();

export function own(pid: number): void {
  owned.add(pid);
}

export function disown(pid: number): void {
  owned.delete(pid);
}

export function isOwned(pid: number): boolean {
  return owned.has(pid);
}
