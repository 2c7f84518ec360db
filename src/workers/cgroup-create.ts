// Piscina task: create a service's cgroup and write its limits (mkdir and writes that can block for milliseconds), off the event loop.
import { openCgroups } from '../cgroup';
import type { Layout } from '../cgroup/detect';
import { CgroupError } from '../cgroup/files';
import { LimitError, Limits } from '../cgroup/limits';

export interface CreateTask {
  layout: Layout;
  root: string;
  name: string;
  limits: Limits;
}

/** Null when created; else which error it was, its message and code (an Error's class does not cross threads). */
export type CreateResult = null | { kind: 'cgroup' | 'limit'; message: string; code?: string };

export default function create(task: CreateTask): CreateResult {
  try {
    openCgroups({ layout: task.layout, root: task.root, prepare: false }).create(task.name, task.limits);
    return null;
  } catch (e) {
    if (e instanceof CgroupError) return { kind: 'cgroup', message: e.message, code: e.code };
    if (e instanceof LimitError) return { kind: 'limit', message: e.message };
    throw e;
  }
}
