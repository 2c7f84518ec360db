// The facts about the calling process and host that a SpawnPlan depends on, gathered in one place.
import * as fs from 'fs';
import * as os from 'os';

import { initPath } from '../native';
import type { PathKind, SpecContext } from '../spec/spawn-spec';

export function probePath(p: string): PathKind {
  try {
    const st = fs.statSync(p);
    return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
  } catch {
    return null;
  }
}

/** First subordinate id of the calling user in /etc/subuid, or 100000 (the usual first range). */
export function subordinateBase(file = '/etc/subuid'): number {
  const user = os.userInfo();
  try {
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const [who, start] = line.split(':');
      if ((who === user.username || who === String(user.uid)) && /^\d+$/.test(start ?? '')) return Number(start);
    }
  } catch {
    /* no /etc/subuid: use the usual default */
  }
  return 100000;
}

export function hostContext(over: Partial<SpecContext> & Pick<SpecContext, 'name'>): SpecContext {
  return {
    baseEnv: {},
    defaultCwd: '/',
    uid: process.geteuid!(),
    gid: process.getegid!(),
    subordinateBase: () => subordinateBase(),
    mapRoot: false,
    initPath,
    stdio: [0, 1, 2],
    passFds: [],
    newSession: false,
    probe: probePath,
    ...(Object.fromEntries(Object.entries(over).filter(([, v]) => v !== undefined)) as typeof over),
  };
}
