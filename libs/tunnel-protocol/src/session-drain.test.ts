import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame } from './encode.ts';
import { ResetCode, SessionClosedError, StreamResetError, TunnelError } from './errors.ts';
import { FrameType } from './frame.ts';
import { encodeOpenHead } from './head.ts';
import type { TunnelStream } from './stream.ts';
import { destroyTestSessions, errorOf, httpHead, nextTurn, OK, readAll, serverWithRawPeer, sessions } from './testing/session-harness.ts';

describe('Session drain and close: GOAWAY, close(), a dropped transport', () => {
  afterEach(destroyTestSessions);

  it('GOAWAY: the peer sees isGoingAway, new opens throw, in-flight streams finish, goAway resolves when idle', async () => {
    let srv: TunnelStream | undefined;
    const { client, server } = sessions({ onServerStream: (s) => (srv = s) });
    const st = client.openStream(httpHead('/inflight'), true);
    while (!srv) await nextTurn();
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

  it('an OPEN racing our GOAWAY is REFUSED', async () => {
    const { server, peer } = serverWithRawPeer({}, () => {});
    void server.goAway(1000);
    await peer.waitFor((f) => f.type === FrameType.GOAWAY);
    peer.send(encodeFrame(FrameType.OPEN, 0, 1, encodeOpenHead(httpHead())));
    const r = await peer.waitFor((f) => f.type === FrameType.RESET && f.streamId === 1);
    expect(r.payload.readUInt32BE(0)).toBe(ResetCode.REFUSED);
    expect(new StreamResetError(ResetCode.REFUSED).code).toBe('TUN_ERR_GOING_AWAY');
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
});
