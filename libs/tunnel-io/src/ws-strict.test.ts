import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ProtocolError, TransportClosedError } from '@tunnel/tunnel-protocol';
import { rawWebSocketTransport, type RawSocketLike } from './raw-websocket.ts';
import { WsFrameDecoder, WsOpcode, encodeWsClosePayload, encodeWsHeader, isValidCloseCode } from './ws-codec.ts';

function frame(opcode: number, payload: Buffer, fin = true): Buffer {
  const header = encodeWsHeader(opcode, payload.length, true);
  if (!fin) header[0] &= 0x7f;
  return Buffer.concat([header, payload]);
}

function decode(...frames: Buffer[]): void {
  const dec = new WsFrameDecoder(true, { data: () => {}, control: () => {} });
  for (const f of frames) dec.push(f);
}

describe('WsFrameDecoder message sequencing', () => {
  it('fails a continuation frame with no message started', () => {
    expect(() => decode(frame(WsOpcode.CONTINUATION, Buffer.from('x')))).toThrow(ProtocolError);
  });

  it('fails a new binary frame inside an unfinished message', () => {
    expect(() => decode(frame(WsOpcode.BINARY, Buffer.from('a'), false), frame(WsOpcode.BINARY, Buffer.from('b')))).toThrow(ProtocolError);
  });

  it('fails a continuation after the message finished', () => {
    expect(() => decode(frame(WsOpcode.BINARY, Buffer.from('a')), frame(WsOpcode.CONTINUATION, Buffer.from('b')))).toThrow(
      /no message to continue/,
    );
  });

  it('accepts a fragmented message with a ping in the middle', () => {
    expect(() =>
      decode(
        frame(WsOpcode.BINARY, Buffer.from('a'), false),
        frame(WsOpcode.PING, Buffer.alloc(0)),
        frame(WsOpcode.CONTINUATION, Buffer.from('b'), false),
        frame(WsOpcode.CONTINUATION, Buffer.from('c')),
      ),
    ).not.toThrow();
  });
});

describe('close codes', () => {
  it.each([
    [1000, true],
    [1001, true],
    [1003, true],
    [1004, false],
    [1005, false],
    [1006, false],
    [1007, true],
    [1011, true],
    [1015, false],
    [1016, false],
    [2999, false],
    [3000, true],
    [4999, true],
    [5000, false],
    [999, false],
    [0, false],
  ])('%i valid on the wire: %s', (code, valid) => {
    expect(isValidCloseCode(code)).toBe(valid);
  });

  /** A socket stand-in recording what the transport writes. */
  class FakeSocket extends EventEmitter {
    written: Buffer[] = [];
    writableLength = 0;
    writableNeedDrain = false;
    destroyed = false;
    write(c: Buffer): boolean {
      this.written.push(c);
      return true;
    }
    end(): void {}
    destroy(): void {
      this.destroyed = true;
    }
    cork(): void {}
    uncork(): void {}
    pause(): void {}
    resume(): void {}
  }

  function closeCodeSentFor(payload: Buffer): { sent: number | undefined; err: Error | undefined } {
    const socket = new FakeSocket();
    const t = rawWebSocketTransport(socket as unknown as RawSocketLike, { role: 'server', closeTimeoutMs: 1 });
    let err: Error | undefined;
    t.bind({ data: () => {}, drain: () => {}, close: (e) => (err = e) });
    socket.emit('data', frame(WsOpcode.CLOSE, payload));
    let sent: number | undefined;
    const dec = new WsFrameDecoder(false, { data: () => {}, control: (op, p) => op === WsOpcode.CLOSE && (sent = p.readUInt16BE(0)) });
    for (const w of socket.written) dec.push(w);
    return { sent, err };
  }

  it.each([1005, 1006, 1015, 1004, 2000, 999, 5000])('answers a peer close with code %i by 1002, never echoing it', (code) => {
    const { sent, err } = closeCodeSentFor(encodeWsClosePayload(code));
    expect(sent).toBe(1002);
    expect(err).toBeInstanceOf(ProtocolError);
  });

  it('answers a one-byte close payload by 1002', () => {
    expect(closeCodeSentFor(Buffer.from([3])).sent).toBe(1002);
  });

  it.each([1000, 1001, 3001])('echoes a valid close code %i', (code) => {
    expect(closeCodeSentFor(encodeWsClosePayload(code)).sent).toBe(code);
  });

  it('answers an empty close with 1000', () => {
    expect(closeCodeSentFor(Buffer.alloc(0)).sent).toBe(1000);
  });

  it.each([1000, 1001])('reports a peer close with %i as no error', (code) => {
    expect(closeCodeSentFor(encodeWsClosePayload(code)).err).toBeUndefined();
  });

  it('reports a peer close with an error code as TUN_ERR_PEER_CLOSED, with its code and reason', () => {
    const { err } = closeCodeSentFor(encodeWsClosePayload(1011, 'overloaded'));
    expect(err).toBeInstanceOf(TransportClosedError);
    expect(err).toMatchObject({ code: 'TUN_ERR_PEER_CLOSED', closeCode: 1011 });
    expect(err?.message).toContain('overloaded');
  });

  it('reports a connection that drops without a close frame as TUN_ERR_CONNECTION_LOST (1006)', () => {
    const socket = new FakeSocket();
    const t = rawWebSocketTransport(socket as unknown as RawSocketLike, { role: 'client' });
    let err: Error | undefined;
    t.bind({ data: () => {}, drain: () => {}, close: (e) => (err = e) });
    socket.emit('close');
    expect(err).toBeInstanceOf(TransportClosedError);
    expect(err).toMatchObject({ code: 'TUN_ERR_CONNECTION_LOST', closeCode: 1006 });
  });
});
