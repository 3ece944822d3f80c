import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/**
 * A deliberately misbehaving WebSocket client on a raw TCP socket: it answers pings (so it looks
 * alive) but never answers a close frame and keeps sending after one, and it can write arbitrary
 * bytes. `ws` cannot do either, because it implements the protocol correctly.
 */
export class RawWsClient {
  /** Text frames received, in order. */
  readonly messages: string[] = [];
  /** Close code of the close frame the server sent, if any. */
  closeCode: number | null = null;
  /** Date.now() when the TCP connection ended (null while open). */
  endedAt: number | null = null;
  private buffer = Buffer.alloc(0);
  private listeners = new Set<() => void>();

  private constructor(private readonly socket: Socket) {}

  /** Opens `path` on 127.0.0.1:port; resolves once the server answered 101 (rejects with the status otherwise). */
  static open(port: number, path: string, headers: Record<string, string> = {}): Promise<RawWsClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      const client = new RawWsClient(socket);
      let head = Buffer.alloc(0);
      let upgraded = false;
      socket.on('error', (error) => {
        if (!upgraded) reject(error);
      });
      socket.on('close', () => {
        client.endedAt = Date.now();
        client.notify();
        if (!upgraded) reject(new Error(`closed before the upgrade: ${head.toString().split('\r\n')[0]}`));
      });
      socket.on('data', (chunk: Buffer) => {
        if (upgraded) return client.onData(chunk);
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        const status = head.toString('latin1', 0, head.indexOf('\r\n'));
        if (!/^HTTP\/1\.1 101/.test(status)) {
          socket.destroy();
          return reject(new Error(status));
        }
        upgraded = true;
        resolve(client);
        const rest = head.subarray(end + 4);
        if (rest.length > 0) client.onData(rest);
      });
      const extra = Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
      );
    });
  }

  get open(): boolean {
    return this.endedAt === null;
  }

  /** Sends one masked frame (text by default); ignored once the TCP connection ended. */
  send(payload: string | Buffer, opcode = 0x1): void {
    if (!this.open) return;
    const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
    const mask = randomBytes(4);
    let header: Buffer;
    if (data.length < 126) {
      header = Buffer.from([0x80 | opcode, 0x80 | data.length]);
    } else if (data.length < 65_536) {
      header = Buffer.alloc(4);
      header[0] = 0x80 | opcode;
      header[1] = 0x80 | 126;
      header.writeUInt16BE(data.length, 2);
    } else {
      header = Buffer.alloc(10);
      header[0] = 0x80 | opcode;
      header[1] = 0x80 | 127;
      header.writeBigUInt64BE(BigInt(data.length), 2);
    }
    const masked = Buffer.alloc(data.length);
    for (let i = 0; i < data.length; i++) masked[i] = data[i] ^ mask[i & 3];
    this.socket.write(Buffer.concat([header, mask, masked]));
  }

  /** Writes bytes as they are, after the handshake (garbage, truncated frames, ...). */
  writeRaw(bytes: Buffer): void {
    if (this.open) this.socket.write(bytes);
  }

  /** Resolves when `check` holds (re-checked on every frame and on close), or rejects after timeoutMs. */
  until(check: () => boolean, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const listener = () => {
        if (!check()) return;
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve();
      };
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`condition not met within ${timeoutMs} ms`));
      }, timeoutMs);
      this.listeners.add(listener);
      listener();
    });
  }

  /** Stops reading the socket (frames, pings and close frames stay unread): a host that only writes. */
  stopReading(): void {
    this.socket.pause();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.buffer.length < 2) return;
      const opcode = this.buffer[0] & 0x0f;
      let length = this.buffer[1] & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.buffer.length < 4) return;
        length = this.buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (this.buffer.length < 10) return;
        length = Number(this.buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (this.buffer.length < offset + length) return;
      const payload = this.buffer.subarray(offset, offset + length);
      this.buffer = this.buffer.subarray(offset + length);
      if (opcode === 0x1) this.messages.push(payload.toString('utf8'));
      else if (opcode === 0x8) this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      else if (opcode === 0x9) this.send(Buffer.from(payload), 0xa);
      this.notify();
    }
  }
}
