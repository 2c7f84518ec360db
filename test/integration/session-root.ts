// One cgroup root of this test run's own for every sandbox and CLI run that names none (they inherit it), removed when the run ends.
import { removeTestRoot, testRoot } from './cgroup-helpers';

if (!process.env.NSVISOR_CGROUP_ROOT) {
  const root = testRoot();
  process.env.NSVISOR_CGROUP_ROOT = root;
  // A root-level hook: mocha runs it once, after every test file.
  after(() => removeTestRoot(root));
}
