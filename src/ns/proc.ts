// The real NsSource: reads /proc/PID/ns links, process owners and command lines, /etc/passwd, and ioctl_ns through the addon.
import * as fs from 'fs';

import { addon } from '../native';
import { formatCommand, parseNsLink, parsePasswd } from './parse';
import { NsLink, NsSource, NsType } from './types';

function readPasswd(file: string): Map<number, string> {
  try {
    return parsePasswd(fs.readFileSync(file, 'utf8'));
  } catch {
    return new Map(); // no passwd file: users are shown by uid
  }
}

/** Reads the system under `procRoot` (default /proc). */
export function procSource(procRoot = '/proc', passwdFile = '/etc/passwd'): NsSource {
  let names: Map<number, string> | undefined;
  return {
    pids() {
      return fs
        .readdirSync(procRoot)
        .filter((name) => /^\d+$/.test(name))
        .map(Number)
        .sort((a, b) => a - b);
    },
    links(pid) {
      const dir = `${procRoot}/${pid}/ns`;
      const out: NsLink[] = [];
      for (const name of fs.readdirSync(dir).sort()) {
        const link = parseNsLink(fs.readlinkSync(`${dir}/${name}`));
        if (link && link.type === name) out.push(link);
      }
      return out;
    },
    process(pid) {
      const dir = `${procRoot}/${pid}`;
      // lsns shows the owner of /proc/PID (the effective uid of the process).
      const uid = fs.statSync(dir).uid;
      const cmdline = fs.readFileSync(`${dir}/cmdline`, 'utf8');
      // Kernel threads have no command line: lsns shows their comm name.
      const comm = cmdline.replace(/\0/g, '') === '' ? fs.readFileSync(`${dir}/comm`, 'utf8') : '';
      return { uid, command: formatCommand(cmdline, comm) };
    },
    info(pid, type: NsType) {
      return addon.nsInfo(`${procRoot}/${pid}/ns/${type}`);
    },
    userName(uid) {
      names ??= readPasswd(passwdFile);
      return names.get(uid) ?? String(uid);
    },
  };
}
