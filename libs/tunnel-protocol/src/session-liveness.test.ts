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

  it('closes with TUN_ERR_PEER_NOT_READING a session whose peer keeps pinging but reads nothing of what it is sent', async () => {
    // Pings every 10 ms keep the server hearing the client even on a loaded host.
    const idleTimeoutMs = 300;
    const { server, ta } = sessions({
      client: { pingIntervalMs: 10, idleTimeoutMs: 0 },
      server: { idleTimeoutMs },
      onClientStream: () => {},
    });
    ta.pause(); // the client stops reading: what the server writes stays unsent, while its pings still arrive
    const started = performance.now();
    server.openStream(httpHead()).write(Buffer.alloc(1000));
    const [err] = (await once(server, 'close')) as [TunnelError];
    expect(err.code).toBe('TUN_ERR_PEER_NOT_READING');
    expect(performance.now() - started).toBeGreaterThanOrEqual(idleTimeoutMs);
  });

  it('keeps a session whose peer reads in bursts, with pauses shorter than the idle timeout', async () => {
    let received = 0;
    const { client, server, ta } = sessions({
      client: { pingIntervalMs: 10, idleTimeoutMs: 0 },
      server: { idleTimeoutMs: 300 },
      onClientStream: (st) => st.on('data', (c: Buffer) => (received += c.length)),
    });
    const st = server.openStream(httpHead());
    // 8 bursts of 128 KB 150 ms apart: the reader stops for 150 ms each time with bytes waiting for it.
    for (let burst = 1; burst <= 8; burst++) {
      ta.pause();
      st.write(Buffer.alloc(128 * 1024));
      await new Promise((r) => setTimeout(r, 150));
      ta.resume();
      while (received < burst * 128 * 1024) await new Promise((r) => setImmediate(r));
    }
    expect(server.isClosed).toBe(false);
    expect(client.isClosed).toBe(false);
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
