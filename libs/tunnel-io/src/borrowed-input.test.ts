import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReadBufferPool } from './read-pool.ts';
import { isBorrowed, Session, type Transport } from '@tunnel/tunnel-protocol';
import { detachedStream, feedBorrowed, splitAt } from '@tunnel/tunnel-protocol/testing';
import { WsFrameDecoder, WsOpcode, encodeWsHeader } from './ws-codec.ts';
import { systemClock } from './system-clock.ts';

// Every consumer of socket bytes in the protocol may be handed borrowed views of pooled read
// buffers; feedBorrowed overwrites each view the moment the call returns, as the next read would.

describe('consumers of borrowed read buffers', () => {
  it('WsFrameDecoder yields the same payloads and control frames when its input is overwritten', () => {
    const body = randomBytes(70_000);
    const wire = Buffer.concat([
      encodeWsHeader(WsOpcode.BINARY, 300, false),
      body.subarray(0, 300),
      encodeWsHeader(WsOpcode.PING, 5, false),
      Buffer.from('ping!'),
      encodeWsHeader(WsOpcode.BINARY, body.length - 300, false),
      body.subarray(300),
    ]);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 60 }), (cuts) => {
        const parts: Buffer[] = [];
        const controls: string[] = [];
        const dec = new WsFrameDecoder(false, {
          data: (p) => parts.push(Buffer.from(p)),
          control: (_op, p) => controls.push(p.toString()),
        });
        // Always also cut inside the ping's payload, so a control frame straddles two reads.
        const pingPayloadAt = wire.indexOf('ping!');
        feedBorrowed(splitAt(wire, [...cuts, pingPayloadAt + 2]), (view) => dec.push(view));
        expect(Buffer.concat(parts).equals(body)).toBe(true);
        expect(controls).toEqual(['ping!']);
      }),
      { numRuns: 300 },
    );
  });

  it('TunnelStream keeps its own copy of what its readable side buffers', async () => {
    const stream = detachedStream();
    const sent = [randomBytes(1000), randomBytes(20_000), randomBytes(5)];
    feedBorrowed(sent, (view) => stream.handleData(view, false));
    stream.handleData(Buffer.alloc(0), true);
    const got: Buffer[] = [];
    for await (const c of stream) got.push(c as Buffer);
    expect(Buffer.concat(got).equals(Buffer.concat(sent))).toBe(true);
  });

  it('TunnelStream hands a sink the borrowed view itself, without a copy', () => {
    const stream = detachedStream();
    const seen: boolean[] = [];
    stream.setSink({ write: (c) => (seen.push(isBorrowed(c)), true) });
    feedBorrowed([randomBytes(100)], (view) => stream.handleData(view, false));
    expect(seen).toEqual([true]);
  });

  it.each([
    ['until the transport says the bytes were written', false],
    ['until the session closes without sending them', true],
  ])('Session keeps a lease on a queued large payload %s', async (_name, closeFirst) => {
    const written: Array<() => void> = [];
    const transport: Transport = {
      bind: () => {},
      write: (_chunks, done) => (done && written.push(done), true),
      close: () => {},
      pause: () => {},
      resume: () => {},
      bufferedBytes: 0,
    };
    const session = new Session({ clock: systemClock, role: 'server', transport, limits: { pingIntervalMs: 0 } });
    const stream = session.openStream({ kind: 'tcp', port: 1, remoteAddress: '', remotePort: 0, localAddress: '' });
    const pool = new ReadBufferPool({ bufferBytes: 256 * 1024, minReadBytes: 64 * 1024, smallBytes: 1 });
    const reader = pool.reader();
    reader.take(1, reader.next());
    const into = reader.next();
    const payload = reader.take(32 * 1024, into);
    stream.write(payload);
    if (closeFirst) {
      session.destroy();
    } else {
      await new Promise((r) => setImmediate(r));
      expect(written).toHaveLength(1);
    }
    // Still leased by the session: the next read goes after the payload, not over it.
    if (!closeFirst) expect(reader.next().byteOffset).toBe(payload.byteOffset + payload.length);
    for (const done of written) done();
    expect(reader.next().byteOffset).toBe(payload.byteOffset);
  });
});
