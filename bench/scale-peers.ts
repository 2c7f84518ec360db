// The scale bench's peers, fetched into a scratch directory and never installed system-wide: Debian's supervisor, PM2 from npm.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export interface Peers {
  /** PYTHONPATH holding the supervisor package, for the system python3. */
  supervisorPath: string;
  supervisorVersion: string;
  /** PM2's own CLI script, run with this node. */
  pm2Cli: string;
  pm2Version: string;
}

const run = (file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) =>
  execFileSync(file, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });

/** supervisor from Debian's archive: `apt-get download` then `dpkg -x`, once per scratch directory. */
function supervisorIn(scratch: string): { supervisorPath: string; supervisorVersion: string } {
  const dir = path.join(scratch, 'supervisor');
  const supervisorPath = path.join(dir, 'root', 'usr', 'lib', 'python3', 'dist-packages');
  if (!fs.existsSync(path.join(supervisorPath, 'supervisor'))) {
    fs.mkdirSync(dir, { recursive: true });
    run('apt-get', ['download', 'supervisor'], dir);
    const deb = fs.readdirSync(dir).find((f) => /^supervisor_.*\.deb$/.test(f));
    if (!deb) throw new Error(`scale bench: apt-get download supervisor left no .deb in ${dir}`);
    run('dpkg', ['-x', deb, 'root'], dir);
  }
  const supervisorVersion = run('python3', ['-c', 'import supervisor.options as o; print(o.VERSION)'], dir, { ...process.env, PYTHONPATH: supervisorPath }).trim();
  return { supervisorPath, supervisorVersion };
}

/** PM2 from the npm registry into SCRATCH/pm2, once per scratch directory. */
function pm2In(scratch: string): { pm2Cli: string; pm2Version: string } {
  const dir = path.join(scratch, 'pm2');
  const pm2Cli = path.join(dir, 'node_modules', 'pm2', 'bin', 'pm2');
  if (!fs.existsSync(pm2Cli)) {
    fs.mkdirSync(dir, { recursive: true });
    if (!fs.existsSync(path.join(dir, 'package.json'))) fs.writeFileSync(path.join(dir, 'package.json'), '{"private":true}\n');
    run('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', 'pm2'], dir);
  }
  const pm2Version = JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', 'pm2', 'package.json'), 'utf8')).version;
  return { pm2Cli, pm2Version };
}

/** Both peers in `scratch` (kept between runs, so that a second run fetches nothing). */
export function peersIn(scratch: string): Peers {
  return { ...supervisorIn(scratch), ...pm2In(scratch) };
}
