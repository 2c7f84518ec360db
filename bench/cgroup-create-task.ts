// Piscina task of the bench: create a cgroup and write its limits on a worker thread, the alternative to creating it on the event loop.
import { openCgroups } from '../src/cgroup';
import type { Layout } from '../src/cgroup/detect';
import type { Limits } from '../src/cgroup/limits';

export interface CreateTask {
  layout: Layout;
  root: string;
  name: string;
  limits: Limits;
}

export default function create(task: CreateTask): void {
  openCgroups({ layout: task.layout, root: task.root, prepare: false }).create(task.name, task.limits);
}
