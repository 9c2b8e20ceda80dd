import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import {
  ProtocolError,
  FrameDecoder,
  encodeFrame,
  FrameType,
  type Frame,
  type HttpRequestHead,
  Session,
  type TunnelStream,
  readNow,
} from '@tunnel/tunnel-protocol';
import { waitFor } from '@tunnel/testing';
import { rawWebSocketTransport } from './raw-websocket.ts';
import { WsFrameDecoder, WsOpcode, encodeWsClosePayload, encodeWsControl, encodeWsHeader } from './ws-codec.ts';
import { isWebSocketKey, newWebSocketKey, webSocketAccept } from './ws-handshake.ts';
import { systemClock } from './system-clock.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** One masked client frame with a chosen key (RFC 6455 5.3), built by hand for the tests. */
function maskedFrame(opcode: number, payload: Buffer, key: Buffer, fin = true): Buffer {
  const header = encodeWsHeader(opcode, payload.length, true);
  if (!fin) header[0] &= 0x7f;
  key.copy(header, header.length - 4);
  const body = Buffer.from(payload.map((b, i) => b ^ key[i & 3]));
  return Buffer.concat([header, body]);
}

function decodeSplit(wire: Buffer, expectMasked: boolean, cut: () => number): { data: Buffer; controls: Array<[number, string]> } {
  const parts: Buffer[] = [];
  const controls: Array<[number, string]> = [];
  const dec = new WsFrameDecoder(expectMasked, {
    data: (p) => parts.push(Buffer.from(p)),
    control: (op, p) => controls.push([op, p.toString('latin1')]),
  });
  for (let off = 0; off < wire.length;) {
    const n = Math.max(1, cut());
    dec.push(wire.subarray(off, off + n));
    off += n;
  }
  return { data: Buffer.concat(parts), controls };
}

describe('WsFrameDecoder', () => {
  const big = randomBytes(70_000);
  const wire = Buffer.concat([
    maskedFrame(WsOpcode.BINARY, Buffer.from('hello '), Buffer.from([1, 2, 3, 4])),
    maskedFrame(WsOpcode.PING, Buffer.from('p'), Buffer.alloc(4)),
    maskedFrame(WsOpcode.BINARY, big.subarray(0, 300), Buffer.alloc(4), false),
    maskedFrame(WsOpcode.CONTINUATION, big.subarray(300), Buffer.from([9, 8, 7, 6])),
    maskedFrame(WsOpcode.BINARY, Buffer.alloc(0), Buffer.alloc(4)),
    maskedFrame(WsOpcode.CLOSE, encodeWsClosePayload(1000, 'bye'), Buffer.from([5, 5, 5, 5])),
  ]);

  it('unmasks and concatenates payloads, reports control frames, whatever the splits', () => {
    for (let trial = 0; trial < 200; trial++) {
      const sizes = [1, 2, 3, 7, 100, 4096, 65536];
      const got = decodeSplit(wire, true, () => sizes[Math.floor(Math.random() * sizes.length)]);
      expect(got.data.equals(Buffer.concat([Buffer.from('hello '), big]))).toBe(true);
      expect(got.controls).toEqual([
        [WsOpcode.PING, 'p'],
        [WsOpcode.CLOSE, encodeWsClosePayload(1000, 'bye').toString('latin1')],
      ]);
    }
  });

  it('hands on zero-key payloads as slices of the input, never copies', () => {
    const payload = randomBytes(1000);
    const input = Buffer.concat([encodeWsHeader(WsOpcode.BINARY, payload.length, true), payload]);
    const seen: Buffer[] = [];
    // The views themselves are kept (readNow) only to check they are slices of the input.
    new WsFrameDecoder(true, { data: (p) => seen.push(readNow(p)), control: () => {} }).push(input);
    expect(seen).toHaveLength(1);
    expect(seen[0].buffer).toBe(input.buffer);
  });

  it.each([
    ['a text frame', maskedFrame(WsOpcode.TEXT, Buffer.from('x'), Buffer.alloc(4)), true],
    ['an unmasked client frame', Buffer.concat([encodeWsHeader(WsOpcode.BINARY, 1, false), Buffer.from('x')]), true],
    ['a masked server frame', maskedFrame(WsOpcode.BINARY, Buffer.from('x'), Buffer.alloc(4)), false],
    ['reserved bits (compression)', Buffer.from([0xc2, 0x80, 0, 0, 0, 0]), true],
    ['an oversized ping', maskedFrame(WsOpcode.PING, Buffer.alloc(126), Buffer.alloc(4)), true],
    ['a fragmented close', maskedFrame(WsOpcode.CLOSE, Buffer.alloc(2), Buffer.alloc(4), false), true],
    ['an unknown opcode', maskedFrame(0x3, Buffer.alloc(1), Buffer.alloc(4)), true],
  ])('refuses %s with a ProtocolError', (_what, bytes, expectMasked) => {
    const dec = new WsFrameDecoder(expectMasked as boolean, { data: () => {}, control: () => {} });
    expect(() => dec.push(bytes as Buffer)).toThrow(ProtocolError);
    expect(() => dec.push(Buffer.from([0x82, 0]))).toThrow(ProtocolError);
  });

  it('encodes 7-, 16- and 64-bit lengths', () => {
    for (const n of [0, 125, 126, 65535, 65536, 5_000_000]) {
      const payload = Buffer.alloc(n, 1);
      const got = decodeSplit(Buffer.concat([encodeWsHeader(WsOpcode.BINARY, n, false), payload]), false, () => 100_000);
      expect(got.data.length).toBe(n);
    }
    expect(encodeWsControl(WsOpcode.PONG, Buffer.from('ab'), false)).toEqual(Buffer.from([0x8a, 2, 0x61, 0x62]));
  });
});

describe('FrameDecoder streaming DATA', () => {
  it('hands a DATA payload that straddles chunks on in zero-copy pieces, FIN on the last', () => {
    const payload = randomBytes(10_000);
    const wire = encodeFrame(FrameType.DATA, 1, 7, payload);
    const a = wire.subarray(0, 3000);
    const b = wire.subarray(3000, 7000);
    const c = wire.subarray(7000);
    const frames: Frame[] = [];
    const dec = new FrameDecoder({ maxFrameBytes: 64 * 1024, maxHeaderBytes: 1024 }, (f) => frames.push(f));
    for (const chunk of [a, b, c]) dec.write(chunk);
    expect(frames.map((f) => [f.payload.length, f.more])).toEqual([
      [2990, true],
      [4000, true],
      [3010, false],
    ]);
    // The payloads themselves are inspected (readNow) to check they are views of the input.
    for (const f of frames) expect(readNow(f.payload).buffer).toBe(wire.buffer);
    expect(Buffer.concat(frames.map((f) => readNow(f.payload))).equals(payload)).toBe(true);
  });
});

describe('ws-handshake', () => {
  it('computes the RFC 6455 sample accept value and recognises keys', () => {
    expect(webSocketAccept('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    expect(isWebSocketKey(newWebSocketKey())).toBe(true);
    expect(isWebSocketKey('short')).toBe(false);
    expect(isWebSocketKey(undefined)).toBe(false);
  });
});

const head: HttpRequestHead = {
  kind: 'http',
  method: 'GET',
  target: '/',
  authority: 'a.test',
  remoteAddress: '127.0.0.1',
  remotePort: 1,
};

/** A loopback HTTP server whose upgrades become raw-transport server sessions. */
async function rawServer(onStream: (s: TunnelStream) => void): Promise<{ url: string; sessions: Session[] }> {
  const sessions: Session[] = [];
  const server = createServer();
  server.on('upgrade', (req: IncomingMessage, socket: Socket, rest: Buffer) => {
    const key = req.headers['sec-websocket-key'] as string;
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${webSocketAccept(key)}\r\n\r\n`,
    );
    sessions.push(
      new Session({
        clock: systemClock,
        role: 'server',
        transport: rawWebSocketTransport(socket, { role: 'server', head: rest }),
        limits: { pingIntervalMs: 0 },
        onStream,
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    for (const s of sessions) s.destroy();
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, sessions };
}

function echo(s: TunnelStream): void {
  s.pipe(s);
}

async function roundTrip(stream: TunnelStream, data: Buffer): Promise<Buffer> {
  const parts: Buffer[] = [];
  stream.on('data', (c: Buffer) => parts.push(c));
  const ended = once(stream, 'end');
  for (let off = 0; off < data.length; off += 100_000) {
    if (!stream.write(data.subarray(off, off + 100_000))) await once(stream, 'drain');
  }
  stream.end();
  await ended;
  return Buffer.concat(parts);
}

describe('rawWebSocketTransport', () => {
  it('interoperates with the ws library as the client (zero mask), both ways, 3 MB', async () => {
    const { url } = await rawServer(echo);
    const ws = new WebSocket(url, { generateMask: (m) => m.fill(0) });
    await once(ws, 'open');
    const { webSocketTransport } = await import('./testing/websocket.ts');
    const client = new Session({ clock: systemClock, role: 'client', transport: webSocketTransport(ws), limits: { pingIntervalMs: 0 } });
    cleanups.push(() => client.destroy());
    const data = randomBytes(3_000_000);
    expect((await roundTrip(client.openStream(head), data)).equals(data)).toBe(true);
  });

  it('as the client, talks to a ws library server, which unmasks our zero key', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(wss, 'listening');
    cleanups.push(() => new Promise<void>((r) => wss.close(() => r())));
    const received: Buffer[] = [];
    wss.on('connection', (ws) => ws.on('message', (m: Buffer) => received.push(m)));
    const key = newWebSocketKey();
    const req = request({
      host: '127.0.0.1',
      port: (wss.address() as AddressInfo).port,
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': key, 'Sec-WebSocket-Version': '13' },
    });
    req.end();
    const [res, socket, rest] = (await once(req, 'upgrade')) as [IncomingMessage, Socket, Buffer];
    expect(res.headers['sec-websocket-accept']).toBe(webSocketAccept(key));
    const t = rawWebSocketTransport(socket, { role: 'client', head: rest });
    let closed: Error | undefined | null = null;
    t.bind({ data: () => {}, drain: () => {}, close: (err) => (closed = err) });
    t.write([Buffer.from('one'), Buffer.from('-two')]);
    await waitFor(() => Buffer.concat(received).length >= 7, { what: 'both messages at the server' });
    expect(Buffer.concat(received).toString()).toBe('one-two');
    t.close(1000);
    await waitFor(() => closed !== null, { what: 'the close callback' });
    expect(closed).toBeUndefined();
  });

  it('closes with 1002 on a protocol error, and answers pings', async () => {
    const { url, sessions } = await rawServer(echo);
    const ws = new WebSocket(url);
    await once(ws, 'open');
    ws.ping(Buffer.from('hi'));
    const [pong] = (await once(ws, 'pong')) as [Buffer];
    expect(pong.toString()).toBe('hi');
    ws.send('text is not spoken here');
    const [code] = (await once(ws, 'close')) as [number];
    expect(code).toBe(1002);
    await waitFor(() => sessions[0].isClosed, { what: 'the server session to close' });
  });
});
