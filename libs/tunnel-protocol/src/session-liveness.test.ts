import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame } from './encode.ts';
import { SessionClosedError, TunnelError } from './errors.ts';
import { FrameFlag, FrameType } from './frame.ts';
import { destroyTestSessions, errorOf, httpHead, serverWithRawPeer, sessions } from './testing/session-harness.ts';

describe('Session liveness and control frames: PING, keep-alive, idle timeout, PEERS', () => {
  afterEach(destroyTestSessions);

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
    const { server, peer } = serverWithRawPeer({}, () => {});
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
    const { server: s, peer } = serverWithRawPeer();
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
});
