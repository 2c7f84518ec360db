// Pure parsers of the text nsvisor ns reads: namespace links, /proc/PID/cmdline, /etc/passwd.
import { NS_TYPES, NsLink, NsType } from './types';

/** "pid:[4026531836]" → { type: 'pid', inode: 4026531836 }; null for anything else. */
export function parseNsLink(text: string): NsLink | null {
  const m = /^([a-z_]+):\[(\d+)\]$/.exec(text);
  if (!m || !(NS_TYPES as readonly string[]).includes(m[1])) return null;
  return { type: m[1] as NsType, inode: Number(m[2]) };
}

/** The command line as lsns prints it: NUL-separated arguments joined by spaces; the comm name when empty (kernel threads). */
export function formatCommand(cmdline: string, comm: string): string {
  const args = cmdline.split('\0');
  while (args.length > 0 && args[args.length - 1] === '') args.pop();
  return args.length > 0 ? args.join(' ') : comm.trim();
}

/** uid → login name from the text of /etc/passwd; the first entry of a uid wins, malformed lines are ignored. */
export function parsePasswd(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields.length < 3 || fields[0] === '' || !/^\d+$/.test(fields[2])) continue;
    const uid = Number(fields[2]);
    if (!names.has(uid)) names.set(uid, fields[0]);
  }
  return names;
}
