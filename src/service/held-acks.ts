// Tells an adopted instance's nsvisor-init, on a copy of its adoption connection, how much of the output it held is in the log now (native/adopt_wire.h).
import * as fs from 'fs';

/** "NSVK", NSV_ADOPT_ACK_MAGIC. */
const ACK_MAGIC = 0x4e53564b;

export class HeldAcks {
  private readonly left: [number, number];

  /** `fd`: the copy of the connection (adoptConnect's ackFd, null when nothing was held); `held`: bytes held per stream. */
  constructor(
    private fd: number | null,
    held: [number, number],
  ) {
    this.left = [...held];
  }

  /** `bytes` more of stream `stream` (0 stdout, 1 stderr) are written; the copy is closed once all are. */
  taken(stream: 0 | 1, bytes: number): void {
    if (this.fd === null) return;
    this.left[stream] = Math.max(0, this.left[stream] - bytes);
    const ack = Buffer.alloc(12);
    ack.writeUInt32LE(ACK_MAGIC, 0);
    ack.writeUInt32LE(stream, 4);
    ack.writeUInt32LE(bytes, 8);
    try {
      fs.writeSync(this.fd, ack); // 12 bytes into an idle socket: never short
    } catch {
      // nsvisor-init is gone (EPIPE): nothing is left to tell
    }
    if (this.left[0] === 0 && this.left[1] === 0) this.close();
  }

  /** The instance ended: nothing more to tell. */
  close(): void {
    if (this.fd === null) return;
    fs.closeSync(this.fd);
    this.fd = null;
  }
}
