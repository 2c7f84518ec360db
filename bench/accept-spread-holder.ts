// The accept-spread bench's stand-in for nsvisor's held sockets: a python3 process that makes listening sockets (SO_REUSEPORT or not), keeps them, and starts servers on them as fd 3.
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as readline from 'readline';

/**
 * Reads commands on stdin, one a line, and answers each on stdout: `open K` makes listening socket K on
 * 127.0.0.1:PORT (listen(4096), SO_REUSEPORT when asked) and keeps it; `close K` closes the held copy;
 * `spawn K READY_FILE` starts the server on socket K as fd 3 with LISTEN_FDS=1 and LISTEN_PID its own pid, as
 * nsvisor-init does (stdin and stdout /dev/null, stderr the holder's). Exits are reported as they come
 * (`exited PID CODE`); at the end of stdin it kills the servers left and waits for them. The sockets are
 * close-on-exec, so each server gets only its own; writes go through os.write, which the SIGCHLD handler may
 * safely interrupt.
 */
const HOLDER = String.raw`
import os, signal, socket, sys
port, reuseport, command = int(sys.argv[1]), sys.argv[2] == '1', sys.argv[3:]
held, live = {}, set()
def say(*words): os.write(1, (' '.join(map(str, words)) + '\n').encode())
def reap(*_):
    while live:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0: return
        live.discard(pid)
        say('exited', pid, os.waitstatus_to_exitcode(status))
signal.signal(signal.SIGCHLD, reap)
for line in sys.stdin:
    verb, key, *rest = line.split()
    if verb == 'open':
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuseport: s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        s.bind(('127.0.0.1', port))
        s.listen(4096)
        held[key] = s
        say('opened', key)
    elif verb == 'close':
        held.pop(key).close()
        say('closed', key)
    elif verb == 'spawn':
        env = dict(os.environ, LISTEN_FDS='1', LISTEN_FDNAMES='tcp-127.0.0.1-%d' % port, READY_FILE=rest[0])
        fds = [(os.POSIX_SPAWN_DUP2, held[key].fileno(), 3), (os.POSIX_SPAWN_OPEN, 0, '/dev/null', os.O_RDONLY, 0), (os.POSIX_SPAWN_OPEN, 1, '/dev/null', os.O_WRONLY, 0)]
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGCHLD])
        pid = os.posix_spawn('/bin/sh', ['sh', '-c', 'LISTEN_PID=$$ exec "$@"', 'sh'] + command, env, file_actions=fds, setsigmask=())
        live.add(pid)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGCHLD])
        say('spawned', pid)
    else:
        raise SystemExit('holder: unknown command ' + verb)
signal.signal(signal.SIGCHLD, signal.SIG_DFL)
for pid in live:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
`;

/** How long a new server may take to listen on a loaded 2-CPU machine. */
const READY_TIMEOUT_MS = 30_000;

/** One server process on one held socket. */
export interface Instance {
  pid: number;
  /** The held socket it was given. */
  socket: string;
  /** Its exit code (negative: the signal that ended it). */
  exited: Promise<number>;
}

export class SocketHolder {
  private replies: Array<(line: string) => void> = [];
  private exits = new Map<number, (code: number) => void>();
  private codes = new Map<number, number>();
  private stderr = '';
  private gone: Promise<void>;
  private spawned = 0;

  private constructor(
    private child: ChildProcess,
    private readyDir: string,
  ) {
    readline.createInterface({ input: child.stdout! }).on('line', (line) => this.heard(line));
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.gone = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** A holder for 127.0.0.1:port whose servers run `command` (started through sh, which sets LISTEN_PID and execs it). */
  static start(port: number, reuseport: boolean, command: string[], readyDir: string): SocketHolder {
    const child = spawn('python3', ['-c', HOLDER, String(port), reuseport ? '1' : '0', ...command], { stdio: ['pipe', 'pipe', 'pipe'] });
    return new SocketHolder(child, readyDir);
  }

  private heard(line: string): void {
    const [word, pid, code] = line.split(' ');
    if (word !== 'exited') return this.replies.shift()?.(line);
    const done = this.exits.get(Number(pid));
    if (done) done(Number(code));
    else this.codes.set(Number(pid), Number(code));
  }

  private ask(command: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.replies.push(resolve);
      this.child.stdin!.write(`${command}\n`);
      this.gone.then(() => reject(new Error(`socket holder ended at "${command}": ${this.stderr.trim() || `exit ${this.child.exitCode}`}`)));
    });
  }

  async open(socket: string): Promise<void> {
    await this.ask(`open ${socket}`);
  }

  async close(socket: string): Promise<void> {
    await this.ask(`close ${socket}`);
  }

  /** Starts a server on the held socket and waits until it serves (it writes its ready file once listening). */
  async spawn(socket: string): Promise<Instance> {
    const readyFile = `${this.readyDir}/ready-${this.child.pid}-${++this.spawned}`;
    const pid = Number((await this.ask(`spawn ${socket} ${readyFile}`)).split(' ')[1]);
    const exited = new Promise<number>((resolve) => {
      const known = this.codes.get(pid);
      if (known !== undefined) resolve(known);
      else this.exits.set(pid, resolve);
    });
    let early: number | undefined;
    exited.then((code) => (early = code));
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!fs.existsSync(readyFile)) {
      if (early !== undefined) throw new Error(`server pid ${pid} on socket ${socket} exited ${early} before it was ready: ${this.stderr.trim()}`);
      if (Date.now() > deadline) throw new Error(`server pid ${pid} on socket ${socket} not ready after ${READY_TIMEOUT_MS} ms (no ${readyFile})`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return { pid, socket, exited };
  }

  /** SIGTERM, as nsvisor stops an instance: it stops accepting, finishes its connections and exits. */
  async stop(instance: Instance): Promise<number> {
    process.kill(instance.pid, 'SIGTERM');
    return instance.exited;
  }

  /** Ends the holder: servers still running are killed, the sockets closed. */
  async end(): Promise<void> {
    this.child.stdin!.end();
    await this.gone;
  }
}
