#!/usr/bin/env node
// Install step: builds the addon and nsvisor-init with node-gyp against the Node headers already on this machine, after checking the tools it needs.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const DEBIAN_HINT = 'on Debian or Ubuntu: apt-get install build-essential python3';

/** The first of these names found as an executable on PATH, or null. */
function onPath(names) {
  const dirs = (process.env.PATH || '').split(':').filter(Boolean);
  for (const name of names) {
    for (const dir of dirs) {
      const file = path.join(dir, name);
      try {
        fs.accessSync(file, fs.constants.X_OK);
        if (fs.statSync(file).isFile()) return file;
      } catch {
        /* not here */
      }
    }
  }
  return null;
}

/** What is missing to build: each entry names the piece and why it is needed. */
function missingTools() {
  const missing = [];
  const python = process.env.PYTHON || onPath(['python3']);
  if (!python) missing.push('python3 (node-gyp runs gyp, a Python program)');
  if (!onPath(['make'])) missing.push('make');
  const cc = process.env.CC || onPath(['cc', 'gcc', 'clang']);
  if (!cc) missing.push('a C compiler (cc, gcc or clang)');
  if (!(process.env.CXX || onPath(['c++', 'g++', 'clang++']))) missing.push('a C++ compiler (c++, g++ or clang++)');
  if (cc) {
    // nsvisor-init is linked -static-pie: the C library's static archive must be there (Debian: libc6-dev).
    const r = spawnSync(cc, ['-print-file-name=libc.a'], { encoding: 'utf8' });
    const archive = (r.stdout || '').trim();
    if (!path.isAbsolute(archive) || !fs.existsSync(archive)) missing.push('the static C library libc.a (libc6-dev), for nsvisor-init');
  }
  return missing;
}

/**
 * The prefix whose include/node holds the headers of a Node (node-gyp's --nodedir): beside the running node first
 * (PREFIX/bin/node and PREFIX/include/node, as Node's own tarballs, nvm and Debian lay them out), then /usr.
 * null when neither has them: node-gyp then fetches the headers for this Node itself.
 */
function localNodeDir() {
  const candidates = [path.resolve(process.execPath, '..', '..'), '/usr'];
  for (const prefix of candidates) {
    const include = path.join(prefix, 'include', 'node');
    if (['common.gypi', 'node_api.h', 'node_version.h'].every((f) => fs.existsSync(path.join(include, f)))) return prefix;
  }
  return null;
}

function main() {
  const missing = missingTools();
  if (missing.length > 0) {
    process.stderr.write(`nsvisor: cannot build the native addon and nsvisor-init: missing ${missing.join('; ')} (${DEBIAN_HINT})\n`);
    return 1;
  }
  const args = [require.resolve('node-gyp/bin/node-gyp.js'), 'rebuild', '--jobs=max'];
  const nodedir = localNodeDir();
  if (nodedir) args.push(`--nodedir=${nodedir}`);
  else process.stderr.write(`nsvisor: no Node headers beside ${process.execPath} nor in /usr/include/node: node-gyp will download them\n`);
  const r = spawnSync(process.execPath, args, { cwd: path.resolve(__dirname, '..'), stdio: 'inherit' });
  if (r.error) {
    process.stderr.write(`nsvisor: cannot run node-gyp: ${r.error.message}\n`);
    return 1;
  }
  if (r.status !== 0) process.stderr.write(`nsvisor: node-gyp rebuild failed (exit ${r.status ?? r.signal}); its output is above\n`);
  return r.status ?? 1;
}

if (require.main === module) process.exitCode = main();
module.exports = { missingTools, localNodeDir };
