import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { FrameDecoder } from './decode.ts';
import { encodeFrame, encodeWindow } from './encode.ts';
import { LimitError, ProtocolError, ResetCode, SessionClosedError, StreamResetError, TunnelError } from './errors.ts';
import { FrameFlag, FrameType, type Frame } from './frame.ts';
import { encodeOpenHead, type HttpRequestHead, type OpenHead, type ResponseHead } from './head.ts';
import type { SessionLimits } from './limits.ts';
import { Session } from './session.ts';
import type { TunnelStream } from './stream.ts';
import { createTransportPair, type PairOptions, type TestTransport } from './testing/index.ts';

const open: Session[] = [];
afterEach(() => {
  for (const s of open.splice(0)) {
    // Streams a test left open fail with the session; they are not what the test checks.
    for (const st of (s as unknown as { streams: Map<number, TunnelStream> }).streams.values()) st.on('error', () => {});
    s.destroy();
  }
});

const NO_PING: Partial<SessionLimits> = { pingIntervalMs: 0, idleTimeoutMs: 0 };

function sessions(
  opts: {
    client?: Partial<SessionLimits>;
    server?: Partial<SessionLimits>;
    pair?: PairOptions;
    onServerStream?: (s: TunnelStream) => void;
    onClientStream?: (s: TunnelStream) => void;
  } = {},
) {
  const [ta, tb] = createTransportPair(opts.pair);
  const client = new Session({ role: 'client', transport: ta, limits: { ...NO_PING, ...opts.client }, onStream: opts.onClientStream });
  const server = new Session({ role: 'server', transport: tb, limits: { ...NO_PING, ...opts.server }, onStream: opts.onServerStream });
  open.push(client, server);
  return { client, server, ta, tb };
}

function httpHead(target = '/', method = 'GET'): HttpRequestHead {
  return {
    kind: 'http',
    method,
    target,
    authority: 'app.example.com',
    remoteAddress: '203.0.113.5',
    remotePort: 40000,
    headers: ['Accept', '*/*'],
  };
}

const OK: ResponseHead = { status: 200, statusMessage: '', headers: ['Content-Type', 'application/octet-stream'] };

/** Reads the readable half to its end (not with for-await, which destroys the duplex at the end). */
function readAll(stream: TunnelStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    stream.on('data', (c: Buffer) => parts.push(c));
    stream.once('end', () => resolve(Buffer.concat(parts)));
    stream.once('error', reject);
  });
}

/** Writes `data` in chunks honouring backpressure, then ends the stream. */
async function writeAll(stream: TunnelStream, data: Buffer, chunk = 50_000): Promise<void> {
  for (let off = 0; off < data.length; off += chunk) {
    if (!stream.write(data.subarray(off, off + chunk))) await once(stream, 'drain');
  }
  stream.end();
}

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

function errorOf(stream: TunnelStream): Promise<Error> {
  return new Promise((resolve) => stream.once('error', resolve));
}

/** A hand-driven peer on one transport end: decodes what the session sends, sends raw frames. */
function rawPeer(t: TestTransport) {
  const frames: Frame[] = [];
  let waiters: Array<() => void> = [];
  const dec = new FrameDecoder({ maxFrameBytes: 1 << 24, maxHeaderBytes: 1 << 24 }, (f) => {
    frames.push({ ...f, payload: Buffer.from(f.payload) });
    const w = waiters;
    waiters = [];
    for (const fn of w) fn();
  });
  t.bind({ data: (c) => dec.write(c), drain: () => {}, close: () => {} });
  return {
    frames,
    send: (...bufs: Buffer[]) => t.write(bufs),
    async waitFor(pred: (f: Frame) => boolean): Promise<Frame> {
      for (;;) {
        const hit = frames.find(pred);
        if (hit) return hit;
        await new Promise<void>((r) => waiters.push(r));
      }
    },
  };
}

/** Echo handler: replies 200 and pipes the request body back. */
function echo(stream: TunnelStream): void {
  stream.on('error', () => {});
  stream.reply(OK);
  stream.pipe(stream);
}

describe('Session over createTransportPair', () => {
  it('opens, replies and carries bodies both ways', async () => {
    const seen: OpenHead[] = [];
    const { client, server } = sessions({
      onServerStream: (s) => {
        seen.push(s.head);
        void readAll(s).then((body) => {
          s.reply({ status: 201, statusMessage: 'Created', headers: ['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'] });
          s.end(Buffer.concat([Buffer.from('got:'), body]));
        });
      },
      onClientStream: (s) => {
        expect(s.head).toEqual({ kind: 'tcp', port: 5432, remoteAddress: '198.51.100.2', remotePort: 1234, localAddress: '203.0.113.1' });
        s.reply(OK);
        s.pipe(s);
      },
    });
    const head = httpHead('/upload?x=1', 'POST');
    const st = client.openStream(head);
    expect(st.id % 2).toBe(1);
    const response = once(st, 'response');
    st.end('hello');
    const [resp] = (await response) as [ResponseHead];
    expect(resp).toEqual({ status: 201, statusMessage: 'Created', headers: ['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'] });
    expect((await readAll(st)).toString()).toBe('got:hello');
    expect(st.response).toEqual(resp);
    expect(seen).toEqual([head]);

    // The other way: the server role opens (even ids) and the client answers.
    const back = server.openStream({
      kind: 'tcp',
      port: 5432,
      remoteAddress: '198.51.100.2',
      remotePort: 1234,
      localAddress: '203.0.113.1',
    });
    expect(back.id % 2).toBe(0);
    back.end('raw tcp bytes');
    expect((await readAll(back)).toString()).toBe('raw tcp bytes');
    expect(back.response).toEqual(OK);
    expect(client.streamsOpened).toBe(2);
    expect(server.streamsOpened).toBe(2);
  });

  it('OPEN with FIN and REPLY with FIN carry no body', async () => {
    const { client } = sessions({
      onServerStream: (s) => {
        void readAll(s).then((b) => {
          expect(b.length).toBe(0);
          s.reply({ status: 204, statusMessage: '', headers: [] }, true);
        });
      },
    });
    const st = client.openStream(httpHead(), true);
    const body = await readAll(st);
    expect(body.length).toBe(0);
    expect(st.response?.status).toBe(204);
    if (client.activeStreams !== 0) await once(client, 'idle');
    expect(client.activeStreams).toBe(0);
  });

  it('runs many concurrent streams', async () => {
    const { client, server } = sessions({ onServerStream: echo });
    const payloads = Array.from({ length: 300 }, (_, i) => randomBytes((i * 7919) % 70_000));
    const results = await Promise.all(
      payloads.map(async (p) => {
        const st = client.openStream(httpHead(`/s/${p.length}`, 'POST'));
        const [, body] = await Promise.all([writeAll(st, p, 9_000), readAll(st)]);
        return body;
      }),
    );
    results.forEach((r, i) => expect(r.equals(payloads[i])).toBe(true));
    if (server.activeStreams !== 0) await once(server, 'idle');
    expect(client.activeStreams).toBe(0);
  }, 30_000);

  it('a slow reader does not stall another stream, and its buffer stays bounded by its window', async () => {
    const window = 256 * 1024;
    let slowServerSide: TunnelStream | undefined;
    let maxSlowBuffered = 0;
    const sample = () => {
      if (slowServerSide) maxSlowBuffered = Math.max(maxSlowBuffered, slowServerSide.readableLength, slowServerSide.bytesIn);
    };
    let slowClient!: TunnelStream;
    let fastClient!: TunnelStream;
    const fastDigest = new Promise<{ digest: string; bytes: number }>((resolve, reject) => {
      const { client } = sessions({
        server: { streamWindow: window },
        client: { streamWindow: window },
        onServerStream: (s) => {
          s.on('error', reject);
          s.reply(OK);
          if ((s.head as HttpRequestHead).target === '/slow') {
            slowServerSide = s; // never read: the consumer is paused
            return;
          }
          const h = createHash('sha256');
          let bytes = 0;
          s.on('data', (c: Buffer) => {
            h.update(c);
            bytes += c.length;
            sample();
          });
          s.on('end', () => {
            sample();
            resolve({ digest: h.digest('hex'), bytes });
            s.end();
          });
        },
      });
      slowClient = client.openStream(httpHead('/slow', 'POST'));
      fastClient = client.openStream(httpHead('/fast', 'POST'));
    });
    const slowData = randomBytes(3 * 1024 * 1024);
    const fastData = randomBytes(6 * 1024 * 1024);
    let slowDone = false;
    const slowWriting = writeAll(slowClient, slowData, 32 * 1024).then(() => {
      slowDone = true;
    });
    void writeAll(fastClient, fastData, 64 * 1024);
    const fast = await fastDigest;
    expect(fast.bytes).toBe(fastData.length);
    expect(fast.digest).toBe(sha(fastData));
    expect(slowDone).toBe(false);
    const slow = slowServerSide as TunnelStream | undefined;
    if (!slow) throw new Error('slow stream never arrived');
    sample();
    expect(maxSlowBuffered).toBeLessThanOrEqual(window + 64 * 1024);
    expect(slow.bytesIn).toBeGreaterThan(0);

    // Resume the slow reader: everything arrives, intact.
    const slowBody = readAll(slow);
    await slowWriting;
    expect(sha(await slowBody)).toBe(sha(slowData));
  }, 60_000);

  it('resets a stream whose peer overruns the window with FLOW_CONTROL; other streams go on', async () => {
    const [ta, tb] = createTransportPair();
    const got: TunnelStream[] = [];
    const errs = new Map<number, Error>();
    const server = new Session({
      role: 'server',
      transport: tb,
      limits: { ...NO_PING, streamWindow: 1024 },
      onStream: (s) => {
        got.push(s);
        s.on('error', (e) => errs.set(s.id, e));
      },
    });
    open.push(server);
    const peer = rawPeer(ta);
    peer.send(
      encodeFrame(FrameType.OPEN, 0, 1, encodeOpenHead(httpHead('/a', 'POST'))),
      encodeFrame(FrameType.DATA, 0, 1, Buffer.alloc(1000)),
    );
    peer.send(encodeFrame(FrameType.OPEN, 0, 3, encodeOpenHead(httpHead('/b', 'POST'))));
    // Stream 3: 1025 bytes in one frame against a 1024-byte window is an overrun.
    peer.send(encodeFrame(FrameType.DATA, 0, 3, Buffer.alloc(1025)));
    // Stream 1: exactly uses up its initial window (1000 + 24); not an overrun.
    peer.send(encodeFrame(FrameType.DATA, 0, 1, Buffer.alloc(24)));
    const rst = await peer.waitFor((f) => f.type === FrameType.RESET && f.streamId === 3);
    expect(rst.payload.readUInt32BE(0)).toBe(ResetCode.FLOW_CONTROL);
    expect(got.map((s) => s.id)).toEqual([1, 3]);
    while (!errs.has(3)) await new Promise((r) => setImmediate(r));
    expect(got[1].destroyed).toBe(true);
    expect(errs.get(3)).toBeInstanceOf(ProtocolError);
    expect((errs.get(3) as TunnelError).code).toBe('TUN_ERR_FLOW_CONTROL');
    // Stream 1 is unaffected and the session still open.
    expect(server.isClosed).toBe(false);
    expect(got[1].destroyed).toBe(true);
    expect(got[0].destroyed).toBe(false);
    expect(got[0].bytesIn).toBe(1024);
    got[0].reply(OK, true);
    const reply = await peer.waitFor((f) => f.type === FrameType.REPLY && f.streamId === 1);
    expect(reply.flags & FrameFlag.FIN).toBe(FrameFlag.FIN);
    expect(errs.has(1)).toBe(false);
    expect(peer.frames.some((f) => f.type === FrameType.RESET && f.streamId === 1)).toBe(false);
  });

  it('honours the window exactly: a peer that respects WINDOW credit is never reset', async () => {
    const [ta, tb] = createTransportPair();
    const body: Buffer[] = [];
    const server = new Session({
      role: 'server',
      transport: tb,
      limits: { ...NO_PING, streamWindow: 4096 },
      onStream: (s) => s.on('data', (c: Buffer) => body.push(c)),
    });
    open.push(server);
    const peer = rawPeer(ta);
    peer.send(
      encodeFrame(FrameType.OPEN, 0, 1, encodeOpenHead(httpHead('/a', 'POST'))),
      encodeFrame(FrameType.DATA, 0, 1, Buffer.alloc(4096, 1)),
    );
    const win = await peer.waitFor((f) => f.type === FrameType.WINDOW && f.streamId === 1);
    const credit = win.payload.readUInt32BE(0);
    expect(credit).toBeGreaterThan(0);
    peer.send(encodeFrame(FrameType.DATA, FrameFlag.FIN, 1, Buffer.alloc(credit, 2)));
    while (Buffer.concat(body).length < 4096 + credit) await new Promise((r) => setImmediate(r));
    expect(peer.frames.some((f) => f.type === FrameType.RESET)).toBe(false);
  });

  it('a RESET from either side fails only that stream, with its reason', async () => {
    const serverSide = new Map<string, TunnelStream>();
    const { client } = sessions({
      onServerStream: (s) => {
        const target = (s.head as HttpRequestHead).target;
        serverSide.set(target, s);
        s.on('error', () => {});
        if (target === '/ok') echo(s);
        if (target === '/server-resets') s.reset(ResetCode.UPSTREAM_TIMEOUT);
      },
    });
    const a = client.openStream(httpHead('/client-resets', 'POST'));
    const b = client.openStream(httpHead('/server-resets', 'POST'));
    const c = client.openStream(httpHead('/ok', 'POST'));
    const bErr = errorOf(b);
    const err = (await bErr) as StreamResetError;
    expect(err).toBeInstanceOf(StreamResetError);
    expect(err.reason).toBe(ResetCode.UPSTREAM_TIMEOUT);
    expect(err.code).toBe('TUN_ERR_UPSTREAM_TIMEOUT');

    while (!serverSide.has('/client-resets')) await new Promise((r) => setImmediate(r));
    const aServer = serverSide.get('/client-resets') as TunnelStream;
    const aServerErr = errorOf(aServer);
    a.on('error', () => {});
    a.reset(ResetCode.INTERNAL);
    const e2 = (await aServerErr) as StreamResetError;
    expect(e2).toBeInstanceOf(StreamResetError);
    expect(e2.reason).toBe(ResetCode.INTERNAL);

    const data = randomBytes(300_000);
    const [, echoed] = await Promise.all([writeAll(c, data), readAll(c)]);
    expect(echoed.equals(data)).toBe(true);
    expect(client.isClosed).toBe(false);
  });

  it('destroying a stream locally tells the peer with CANCEL', async () => {
    let srv: TunnelStream | undefined;
    const { client } = sessions({ onServerStream: (s) => (srv = s) });
    const st = client.openStream(httpHead());
    st.write('x');
    while (!srv) await new Promise((r) => setImmediate(r));
    const err = errorOf(srv);
    st.destroy();
    const e = (await err) as StreamResetError;
    expect(e.reason).toBe(ResetCode.CANCEL);
    expect(e.code).toBe('TUN_ERR_STREAM_RESET');
  });

  it('maxStreams: LimitError on open, REFUSED for a hostile peer', async () => {
    const { client } = sessions({ client: { maxStreams: 2 }, onServerStream: () => {} });
    client.openStream(httpHead('/1'));
    client.openStream(httpHead('/2'));
    let e: unknown;
    try {
      client.openStream(httpHead('/3'));
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(LimitError);
    expect((e as LimitError).code).toBe('TUN_ERR_TOO_MANY_STREAMS');

    const [ta, tb] = createTransportPair();
    const accepted: TunnelStream[] = [];
    const server = new Session({ role: 'server', transport: tb, limits: { ...NO_PING, maxStreams: 2 }, onStream: (s) => accepted.push(s) });
    open.push(server);
    const peer = rawPeer(ta);
    for (const id of [1, 3, 5, 7]) peer.send(encodeFrame(FrameType.OPEN, 0, id, encodeOpenHead(httpHead(`/${id}`))));
    const r5 = await peer.waitFor((f) => f.type === FrameType.RESET && f.streamId === 5);
    const r7 = await peer.waitFor((f) => f.type === FrameType.RESET && f.streamId === 7);
    expect(r5.payload.readUInt32BE(0)).toBe(ResetCode.REFUSED);
    expect(r7.payload.readUInt32BE(0)).toBe(ResetCode.REFUSED);
    expect(accepted.map((s) => s.id)).toEqual([1, 3]);
    expect(server.isClosed).toBe(false);
    // Once one finishes, a new open is accepted again.
    accepted[0].on('error', () => {});
    accepted[0].reset(ResetCode.CANCEL);
    peer.send(encodeFrame(FrameType.OPEN, 0, 9, encodeOpenHead(httpHead('/9'))));
    while (accepted.length < 3) await new Promise((r) => setImmediate(r));
    expect(accepted[2].id).toBe(9);
  });

  it('closes the session on an out-of-order or wrong-parity OPEN and on a bad frame', async () => {
    for (const bad of [
      [encodeFrame(FrameType.OPEN, 0, 3, encodeOpenHead(httpHead())), encodeFrame(FrameType.OPEN, 0, 1, encodeOpenHead(httpHead()))],
      [encodeFrame(FrameType.OPEN, 0, 2, encodeOpenHead(httpHead()))],
      [Buffer.from([9, 0, 0, 0, 0, 1, 0, 0, 0, 0])],
    ]) {
      const [ta, tb] = createTransportPair();
      const server = new Session({ role: 'server', transport: tb, limits: NO_PING, onStream: (s) => s.on('error', () => {}) });
      open.push(server);
      const peer = rawPeer(ta);
      peer.send(...bad);
      const [err] = (await once(server, 'close')) as [TunnelError];
      expect(err).toBeInstanceOf(ProtocolError);
      expect(err.code).toBe('TUN_ERR_PROTOCOL');
      expect(server.isClosed).toBe(true);
    }
  });

  it('a malformed OPEN head resets only that stream with PROTOCOL', async () => {
    const [ta, tb] = createTransportPair();
    const server = new Session({ role: 'server', transport: tb, limits: NO_PING, onStream: () => {} });
    open.push(server);
    const peer = rawPeer(ta);
    peer.send(encodeFrame(FrameType.OPEN, 0, 1, Buffer.from([1, 0, 1, 0, 9])));
    const r = await peer.waitFor((f) => f.type === FrameType.RESET && f.streamId === 1);
    expect(r.payload.readUInt32BE(0)).toBe(ResetCode.PROTOCOL);
    expect(server.isClosed).toBe(false);
  });

  it('GOAWAY: the peer sees isGoingAway, new opens throw, in-flight streams finish, goAway resolves when idle', async () => {
    let srv: TunnelStream | undefined;
    const { client, server } = sessions({ onServerStream: (s) => (srv = s) });
    const st = client.openStream(httpHead('/inflight'), true);
    while (!srv) await new Promise((r) => setImmediate(r));
    const sawGoAway = once(client, 'goaway');
    let drained = false;
    const draining = server.goAway(30_000).then(() => {
      drained = true;
    });
    const [reason] = await sawGoAway;
    expect(reason).toBe(ResetCode.CANCEL);
    expect(client.isGoingAway).toBe(true);
    expect(server.isGoingAway).toBe(true);
    let e: unknown;
    try {
      client.openStream(httpHead('/new'));
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(SessionClosedError);
    expect((e as SessionClosedError).code).toBe('TUN_ERR_GOING_AWAY');
    expect(drained).toBe(false);
    // The in-flight stream still completes.
    srv.reply(OK);
    srv.end('bye');
    expect((await readAll(st)).toString()).toBe('bye');
    await draining;
    expect(server.activeStreams).toBe(0);
    expect(server.isClosed).toBe(false);
    // goAway with nothing in flight resolves at once.
    await server.goAway(30_000);
  });

  it('goAway resolves only after the peer has seen it, so a stream crossing it is REFUSED, not lost', async () => {
    const { client, server } = sessions({ onServerStream: (s) => s.resume() });
    // Both in flight at once: the client's OPEN crosses the server's GOAWAY on the wire.
    const drained = server.goAway(30_000).then(() => server.close());
    const st = client.openStream(httpHead('/crossing'), true);
    const err = await errorOf(st);
    await drained;
    expect(err).toBeInstanceOf(StreamResetError);
    expect((err as StreamResetError).reason).toBe(ResetCode.REFUSED);
  });

  it('a stream nobody listens to for errors does not crash the process when it is reset or its session drops', async () => {
    const { client, ta } = sessions({ onServerStream: (s) => s.reset(ResetCode.NO_ROUTE) });
    const refused = client.openStream(httpHead('/nobody-listens'), true);
    const lingering = client.openStream(httpHead('/lingering'));
    await new Promise((r) => refused.once('close', r));
    expect(refused.destroyed).toBe(true);
    ta.drop();
    await once(client, 'close');
    expect(lingering.destroyed).toBe(true);
  });

  it('an OPEN racing our GOAWAY is REFUSED', async () => {
    const [ta, tb] = createTransportPair();
    const server = new Session({ role: 'server', transport: tb, limits: NO_PING, onStream: () => {} });
    open.push(server);
    const peer = rawPeer(ta);
    void server.goAway(1000);
    await peer.waitFor((f) => f.type === FrameType.GOAWAY);
    peer.send(encodeFrame(FrameType.OPEN, 0, 1, encodeOpenHead(httpHead())));
    const r = await peer.waitFor((f) => f.type === FrameType.RESET && f.streamId === 1);
    expect(r.payload.readUInt32BE(0)).toBe(ResetCode.REFUSED);
    expect(new StreamResetError(ResetCode.REFUSED).code).toBe('TUN_ERR_GOING_AWAY');
  });

  it('PEERS: sendPeers reaches the peer as a peers event, in both directions', async () => {
    const { client, server } = sessions();
    const toClient = once(client, 'peers');
    server.sendPeers(['exit-a', 'exit-b']);
    expect((await toClient)[0]).toEqual(['exit-a', 'exit-b']);
    const toServer = once(server, 'peers');
    client.sendPeers(['exit-a']);
    expect((await toServer)[0]).toEqual(['exit-a']);
  });

  it('a malformed PEERS frame closes the session with TUN_ERR_PROTOCOL', async () => {
    const [ta, tb] = createTransportPair();
    const server = new Session({ role: 'server', transport: tb, limits: NO_PING, onStream: () => {} });
    open.push(server);
    const peer = rawPeer(ta);
    const closed = once(server, 'close');
    peer.send(encodeFrame(FrameType.PEERS, 0, 0, Buffer.from('{"instances":["bad id"]}')));
    const [err] = (await closed) as [TunnelError];
    expect(err.code).toBe('TUN_ERR_PROTOCOL');
  });

  it('PING yields an rttMs', async () => {
    const { client } = sessions();
    expect(client.rttMs).toBeUndefined();
    const rtt = once(client, 'rtt');
    client.ping();
    const [ms] = (await rtt) as [number];
    expect(typeof ms).toBe('number');
    expect(ms).toBeGreaterThanOrEqual(0);
    expect(client.rttMs).toBe(ms);
  });

  it('an unsolicited or stale PING ACK is ignored', async () => {
    const [ta, tb] = createTransportPair();
    const s = new Session({ role: 'server', transport: tb, limits: NO_PING });
    open.push(s);
    const peer = rawPeer(ta);
    peer.send(encodeFrame(FrameType.PING, FrameFlag.ACK, 0, Buffer.alloc(8)));
    peer.send(encodeFrame(FrameType.PING, 0, 0, Buffer.from('12345678')));
    const ack = await peer.waitFor((f) => f.type === FrameType.PING);
    expect(ack.flags & FrameFlag.ACK).toBe(FrameFlag.ACK);
    expect(ack.payload.toString()).toBe('12345678');
    expect(s.rttMs).toBeUndefined();
  });

  it('keep-alive pings keep a live link open', async () => {
    const { client, server } = sessions({
      client: { pingIntervalMs: 20, idleTimeoutMs: 100 },
      server: { pingIntervalMs: 20, idleTimeoutMs: 100 },
    });
    for (let i = 0; i < 8; i++) await once(client, 'rtt');
    expect(client.isClosed).toBe(false);
    expect(server.isClosed).toBe(false);
  });

  it('idle timeout closes the session with TUN_ERR_IDLE_TIMEOUT when the link is blackholed', async () => {
    const limits = { pingIntervalMs: 20, idleTimeoutMs: 100 };
    // Only the client times out: the in-memory pair still carries the resulting close to the server.
    const { client, server, ta } = sessions({ client: limits, onServerStream: () => {} });
    const st = client.openStream(httpHead());
    const stErr = errorOf(st);
    ta.blackhole();
    const [[cErr]] = (await Promise.all([once(client, 'close'), once(server, 'close')])) as [[TunnelError], unknown];
    expect(cErr).toBeInstanceOf(SessionClosedError);
    expect(cErr.code).toBe('TUN_ERR_IDLE_TIMEOUT');
    expect(server.isClosed).toBe(true);
    const e = (await stErr) as TunnelError;
    expect(e.code).toBe('TUN_ERR_IDLE_TIMEOUT');
    expect(client.isClosed).toBe(true);
    expect(client.isGoingAway).toBe(true);
  });

  it('drop() fails every in-flight stream with a SessionClosedError', async () => {
    const { client, server, ta } = sessions({ onServerStream: (s) => s.on('error', () => {}) });
    const streams = Array.from({ length: 5 }, (_, i) => client.openStream(httpHead(`/${i}`, 'POST')));
    streams.forEach((s) => s.write('partial'));
    const errs = Promise.all(streams.map(errorOf));
    const closes = Promise.all([once(client, 'close'), once(server, 'close')]);
    ta.drop();
    for (const e of await errs) {
      expect(e).toBeInstanceOf(SessionClosedError);
      expect((e as TunnelError).code).toBe('TUN_ERR_SESSION_CLOSED');
    }
    const [[ce]] = (await closes) as unknown as [[TunnelError]];
    expect(ce).toBeInstanceOf(SessionClosedError);
    expect(client.activeStreams).toBe(0);
    expect(() => client.openStream(httpHead())).toThrow(SessionClosedError);
  });

  it('close() is graceful: streams fail with SessionClosedError, the peer sees close without error', async () => {
    const { client, server } = sessions({ onServerStream: (s) => s.on('error', () => {}) });
    const st = client.openStream(httpHead());
    const e = errorOf(st);
    const peerClosed = once(server, 'close');
    client.close();
    expect(await e).toBeInstanceOf(SessionClosedError);
    const [err] = await peerClosed;
    expect(err).toBeUndefined();
  });

  it.each([
    ['small pair highWaterMark', { highWaterMark: 16 * 1024 }, {}],
    ['session transportHighWaterMark below the pair’s', {}, { transportHighWaterMark: 64 * 1024 }],
  ])(
    'transport backpressure (%s) still delivers 20 MB intact and in order',
    async (_n, pair, limits) => {
      let received: Promise<Buffer> | undefined;
      const { client } = sessions({
        pair,
        client: limits,
        server: limits,
        onServerStream: (s) => {
          s.reply(OK);
          received = readAll(s).then((b) => {
            s.end();
            return b;
          });
        },
      });
      const block = randomBytes(1024 * 1024);
      const data = Buffer.concat(Array.from({ length: 20 }, (_, i) => Buffer.concat([block.subarray(i), block.subarray(0, i)])));
      const st = client.openStream(httpHead('/big', 'POST'));
      const sizes = [1, 100, 16 * 1024 - 1, 16 * 1024, 70_000, 200_000];
      let off = 0;
      for (let i = 0; off < data.length; i++) {
        const n = sizes[i % sizes.length];
        if (!st.write(data.subarray(off, off + n))) await once(st, 'drain');
        off += n;
      }
      st.end();
      while (!received) await new Promise((r) => setImmediate(r));
      const got = await received;
      expect(got.length).toBe(data.length);
      expect(sha(got)).toBe(sha(data));
    },
    60_000,
  );

  it('WINDOW overflow past 2^31-1 resets the stream with FLOW_CONTROL', async () => {
    const [ta, tb] = createTransportPair();
    let srv: TunnelStream | undefined;
    const server = new Session({ role: 'server', transport: tb, limits: NO_PING, onStream: (s) => (srv = s) });
    open.push(server);
    const peer = rawPeer(ta);
    peer.send(encodeFrame(FrameType.OPEN, 0, 1, encodeOpenHead(httpHead())));
    while (!srv) await new Promise((r) => setImmediate(r));
    srv.on('error', () => {});
    peer.send(encodeWindow(1, 0x7fffffff));
    const r = await peer.waitFor((f) => f.type === FrameType.RESET && f.streamId === 1);
    expect(r.payload.readUInt32BE(0)).toBe(ResetCode.FLOW_CONTROL);
  });
});
