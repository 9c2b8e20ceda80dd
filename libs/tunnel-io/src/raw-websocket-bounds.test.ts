import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { rawWebSocketTransport, type RawSocketLike } from './raw-websocket.ts';
import { WsFrameDecoder, WsOpcode, encodeWsHeader } from './ws-codec.ts';

/** A socket stand-in whose write side the test fills and drains by hand. */
class FakeSocket extends EventEmitter {
  written: Buffer[] = [];
  writableLength = 0;
  writableNeedDrain = false;
  destroyed = false;
  paused = false;
  write(chunk: Buffer): boolean {
    this.written.push(chunk);
    return true;
  }
  end(): void {}
  destroy(): void {
    this.destroyed = true;
  }
  cork(): void {}
  uncork(): void {}
  pause(): this {
    this.paused = true;
    return this;
  }
  resume(): this {
    this.paused = false;
    return this;
  }
}

function maskedPing(n: number): Buffer {
  const payload = Buffer.from(String(n));
  return Buffer.concat([encodeWsHeader(WsOpcode.PING, payload.length, true), payload]);
}

function pongsIn(written: Buffer[]): string[] {
  const pongs: string[] = [];
  const dec = new WsFrameDecoder(false, { data: () => {}, control: (op, p) => op === WsOpcode.PONG && pongs.push(p.toString()) });
  for (const w of written) dec.push(w);
  return pongs;
}

describe('raw WebSocket transport under a ping flood', () => {
  it('answers every ping while the peer reads, only the latest while it does not', () => {
    const socket = new FakeSocket();
    const t = rawWebSocketTransport(socket as unknown as RawSocketLike, { role: 'server', pongHighWaterMark: 1024 });
    t.bind({ data: () => {}, drain: () => {}, close: () => {} });
    socket.emit('data', Buffer.concat([maskedPing(1), maskedPing(2)]));
    expect(pongsIn(socket.written)).toEqual(['1', '2']);
    // The peer stops reading: our write side is backed up past the mark.
    socket.written = [];
    socket.writableLength = 4096;
    const flood: Buffer[] = [];
    for (let i = 3; i < 10_003; i++) flood.push(maskedPing(i));
    socket.emit('data', Buffer.concat(flood));
    expect(socket.written).toEqual([]); // 10 000 pings, no pong queued
    socket.writableLength = 0;
    socket.emit('drain');
    expect(pongsIn(socket.written)).toEqual(['10002']); // one answer, to the latest (RFC 6455 5.5.3)
  });

  it('pause() and resume() stop and restart reading the socket', () => {
    const socket = new FakeSocket();
    const t = rawWebSocketTransport(socket as unknown as RawSocketLike, { role: 'server' });
    t.pause();
    expect(socket.paused).toBe(true);
    t.resume();
    expect(socket.paused).toBe(false);
  });
});
