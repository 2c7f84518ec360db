// Cgroup test tools: a fresh nsvisor-test-* root per suite, removed afterwards, and raw reads of the kernel's files.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

import { openCgroups } from '../../src/cgroup';
import { detectLayout } from '../../src/cgroup/detect';
import type { CgroupHandle } from '../../src/cgroup/driver';

export function testRoot(): string {
  return `/nsvisor-test-${crypto.randomBytes(4).toString('hex')}`;
}

/** Every directory the root has (or would have) in this host's hierarchies. */
export function rootDirs(root: string): string[] {
  const l = detectLayout();
  return [...new Set([...Object.values(l.v1), ...(l.unified ? [l.unified] : [])].map((m) => path.join(m, root)))];
}

/** Removes the root and everything under it; throws if anything is left. */
export async function removeTestRoot(root: string): Promise<void> {
  await openCgroups({ root, prepare: false }).removeRoot();
  const left = rootDirs(root).filter((d) => fs.existsSync(d));
  if (left.length) throw new Error(`cgroups left behind: ${left.join(', ')}`);
}

/** The directory of a handle that holds `file` (v1: the controller's; v2: the one). */
export function fileOf(h: CgroupHandle, file: string): string {
  const l = detectLayout();
  if (l.kind === 'v2') return `${h.dirs[0]}/${file}`;
  const controller = file.split('.')[0] as keyof typeof h.statsTarget.dirs;
  const dir = h.statsTarget.dirs[controller];
  if (!dir) throw new Error(`no ${controller} hierarchy for ${file}`);
  return `${dir}/${file}`;
}

export function kernelFile(h: CgroupHandle, file: string): string {
  return fs.readFileSync(fileOf(h, file), 'utf8').trim();
}

/** "key value" line of a flat-keyed file. */
export function keyed(h: CgroupHandle, file: string, key: string): number {
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(kernelFile(h, file));
  if (!m) throw new Error(`${fileOf(h, file)}: no "${key}"`);
  return Number(m[1]);
}

export const isV2 = () => detectLayout().kind === 'v2';
