import { EventEmitter, once } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { HttpRequestHead } from './head.ts';
import { pipeToSocket } from './pipe-to-socket.ts';
import { Session } from './session.ts';
import type { TunnelStream } from './stream.ts';
import { createTransportPair } from './testing/pair.ts';

/** A socket that records writes and cork depth, and reports full after `capacity` writes. */
class FakeSocket extends EventEmitter {
  writes: string[] = [];
  batches: string[][] = [];
  private depth = 0;
  private batch: string[] = [];
  ended = false;
  destroyed = false;
  constructor(private capacity = Infinity) {
    super();
  }
  cork(): void {
    this.depth++;
  }
  uncork(): void {
    if (this.depth > 0 && --this.depth === 0 && this.batch.length > 0) {
      this.batches.push(this.batch);
      this.batch = [];
    }
  }
  write(chunk: Buffer): boolean {
    this.writes.push(chunk.toString());
    if (this.depth > 0) this.batch.push(chunk.toString());
    else this.batches.push([chunk.toString()]);
    return this.writes.length < this.capacity;
  }
  end(): void {
    this.ended = true;
  }
}

const head: HttpRequestHead = { kind: 'http', method: 'GET', target: '/', authority: 'a', remoteAddress: '127.0.0.1', remotePort: 1, headers: [] };

function pair(): { opener: Session; accepted: Promise<TunnelStream> } {
  const [a, b] = createTransportPair();
  let resolve!: (s: TunnelStream) => void;
  const accepted = new Promise<TunnelStream>((r) => (resolve = r));
  const opener = new Session({ role: 'server', transport: a, limits: { pingIntervalMs: 0 } });
  new Session({ role: 'client', transport: b, limits: { pingIntervalMs: 0 }, onStream: resolve });
  return { opener, accepted };
}

describe('pipeToSocket', () => {
  it('writes what arrives in one tick as one corked batch, and ends the socket on FIN', async () => {
    const { opener, accepted } = pair();
    const out = opener.openStream(head);
    out.write('a');
    out.write('b');
    out.end('c');
    const socket = new FakeSocket();
    pipeToSocket(await accepted, socket);
    await new Promise((r) => setTimeout(r, 20));
    expect(socket.writes.join('')).toBe('abc');
    expect(socket.batches.length).toBeLessThan(socket.writes.length);
    expect(socket.ended).toBe(true);
  });

  it('pauses the stream while the socket is full and resumes on drain', async () => {
    const { opener, accepted } = pair();
    const out = opener.openStream(head);
    out.write('1');
    const socket = new FakeSocket(1);
    const stream = await accepted;
    pipeToSocket(stream, socket);
    await new Promise((r) => setTimeout(r, 10));
    expect(stream.isPaused()).toBe(true);
    out.end('2');
    await new Promise((r) => setTimeout(r, 10));
    expect(socket.writes).toEqual(['1']);
    socket.emit('drain');
    await once(stream, 'end');
    expect(socket.writes.join('')).toBe('12');
  });
});
