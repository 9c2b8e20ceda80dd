import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { pipeToStream } from './pipe-to-stream.ts';
import { ReadBufferPool } from './read-pool.ts';
import { Session, type Transport } from '@tunnel/tunnel-protocol';
import { systemClock } from './system-clock.ts';

/** A socket that only emits what the test says and records pause/resume. */
class FakeSocket extends EventEmitter {
  paused = false;
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
}

/** A session over a transport that holds every write's `written` callback until the test runs it. */
function holdingSession(): { session: Session; written: Array<() => void>; sent: () => number } {
  const written: Array<() => void> = [];
  let bytes = 0;
  const transport: Transport = {
    bind: () => {},
    write: (chunks, done) => {
      for (const c of chunks) bytes += c.length;
      if (done) written.push(done);
      return true;
    },
    close: () => {},
    pause: () => {},
    resume: () => {},
    bufferedBytes: 0,
  };
  const session = new Session({ clock: systemClock, role: 'server', transport, limits: { pingIntervalMs: 0, streamWindow: 64 * 1024 } });
  return { session, written, sent: () => bytes };
}

const tcpHead = { kind: 'tcp', port: 1, remoteAddress: '', remotePort: 0, localAddress: '' } as const;

describe('pipeToStream', () => {
  it('keeps a borrowed chunk leased until the session has written it', async () => {
    const pool = new ReadBufferPool({ bufferBytes: 256 * 1024, minReadBytes: 64 * 1024, smallBytes: 1 });
    const reader = pool.reader();
    reader.take(1, reader.next());
    const { session, written } = holdingSession();
    const stream = session.openStream(tcpHead);
    const socket = new FakeSocket();
    pipeToStream(socket, stream);
    const chunk = reader.take(32 * 1024, reader.next());
    socket.emit('data', chunk);
    await new Promise((r) => setImmediate(r));
    expect(reader.next().byteOffset).toBe(chunk.byteOffset + chunk.length);
    for (const done of written.splice(0)) done();
    expect(reader.next().byteOffset).toBe(chunk.byteOffset);
  });

  it('pauses the socket while the stream is full, resumes on drain, and ends the stream on end', async () => {
    const { session, sent } = holdingSession();
    const stream = session.openStream(tcpHead);
    const socket = new FakeSocket();
    pipeToStream(socket, stream);
    // Beyond the 64 KiB window and the stream's own 64 KiB buffer: the write must report full.
    for (let i = 0; i < 3; i++) socket.emit('data', Buffer.alloc(64 * 1024, i));
    expect(socket.paused).toBe(true);
    stream.handleWindow(256 * 1024);
    await new Promise((r) => setImmediate(r));
    expect(socket.paused).toBe(false);
    socket.emit('end');
    await new Promise((r) => setImmediate(r));
    expect(stream.writableEnded).toBe(true);
    expect(sent()).toBeGreaterThanOrEqual(3 * 64 * 1024);
  });
});
