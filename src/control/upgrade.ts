// `nsvisor upgrade`: the supervisor executes its program from disk again in place (same pid); its instances outlive the old program and the new one adopts them.
import { spawnSync } from 'child_process';

import { addon } from '../native';

/** An upgrade that cannot be done: nothing was changed. */
export class UpgradeError extends Error {}

/**
 * Checks that an upgrade can keep every service: the instances must outlive the old program (adoptTimeout > 0), none
 * that runs may be one the new program cannot adopt (`notAdoptable`: each "NAME (why)"), and the program on disk must start
 * (`node ENTRY --version`), else the new one could adopt nothing. Throws an UpgradeError saying why not.
 */
export function checkUpgrade(adoptTimeout: number, argv: readonly string[] = process.argv, notAdoptable: string[] = []): string {
  if (adoptTimeout <= 0) throw new UpgradeError('upgrade needs supervisor.adoptTimeout > 0: with 0 the services would end with the old program');
  if (notAdoptable.length) {
    throw new UpgradeError(`upgrade would restart ${notAdoptable.join(', ')}, which cannot be adopted; nothing was changed`);
  }
  const entry = argv[1];
  const r = spawnSync(argv[0], [entry, '--version'], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) {
    // Node's own words for a program that does not load are on the line that names the error, below its location.
    const lines = `${r.stderr ?? ''}`.split('\n').map((l) => l.trim()).filter(Boolean);
    const why = r.error?.message ?? lines.find((l) => /^\w*Error\b/.test(l)) ?? lines[0] ?? `exit ${r.status ?? r.signal}`;
    throw new UpgradeError(`the new program does not start (${argv[0]} ${entry} --version: ${why}): nothing was changed`);
  }
  return r.stdout.trim();
}

/**
 * Replaces this process with the program on disk, same pid and arguments: every fd but 0-2 closes, so each
 * instance's nsvisor-init sees its status pipe hang up and waits to be adopted, which the new program does at start.
 */
export function reexec(argv: readonly string[] = process.argv): never {
  const env = Object.entries(process.env).map(([k, v]) => `${k}=${v}`);
  return addon.execve(argv[0], [...argv], env);
}
