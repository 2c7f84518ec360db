// Pure output of nsvisor ns: the aligned table and the --json array.
import { NsEntry } from './types';

interface Column {
  header: string;
  value(e: NsEntry): string;
  right: boolean;
}

const orDash = (v: number | null): string => (v === null ? '-' : String(v));

/** A command as one line of the table (as lsns shows it): up to its first line break, marked when cut. */
export function oneLine(command: string): string {
  const cut = command.search(/[\r\n]/);
  return cut < 0 ? command : `${command.slice(0, cut).trimEnd()} ...`;
}

const COLUMNS: Column[] = [
  { header: 'NS', value: (e) => String(e.inode), right: true },
  { header: 'TYPE', value: (e) => e.type, right: false },
  { header: 'NPROCS', value: (e) => String(e.nprocs), right: true },
  { header: 'PID', value: (e) => String(e.pid), right: true },
  { header: 'USER', value: (e) => e.user, right: false },
  { header: 'USERNS', value: (e) => orDash(e.userns), right: true },
  { header: 'PARENT', value: (e) => orDash(e.parent), right: true },
  { header: 'OWNER', value: (e) => orDash(e.ownerUid), right: true },
  { header: 'COMMAND', value: (e) => oneLine(e.command), right: false },
];

/** The table, one line per namespace and a header, columns separated by one space; "-" where a relation is null. */
export function formatTable(entries: NsEntry[]): string {
  const rows = [COLUMNS.map((c) => c.header), ...entries.map((e) => COLUMNS.map((c) => c.value(e)))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const last = COLUMNS.length - 1;
  const lines = rows.map((r) =>
    r
      .map((cell, i) => {
        if (i === last) return cell;
        return COLUMNS[i].right ? cell.padStart(widths[i]) : cell.padEnd(widths[i]);
      })
      .join(' ')
      .trimEnd(),
  );
  return lines.join('\n') + '\n';
}

/** The --json output: an array of objects with the keys of NsEntry, in a fixed order. */
export function formatJson(entries: NsEntry[]): string {
  const rows = entries.map((e) => ({
    inode: e.inode,
    type: e.type,
    nprocs: e.nprocs,
    pid: e.pid,
    user: e.user,
    command: e.command,
    userns: e.userns,
    parent: e.parent,
    ownerUid: e.ownerUid,
  }));
  return JSON.stringify(rows, null, 2) + '\n';
}
