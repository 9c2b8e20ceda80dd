import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame } from './encode.ts';
import { LimitError, ProtocolError, ResetCode, StreamResetError, TunnelError } from './errors.ts';
import { FrameType } from './frame.ts';
import { encodeOpenHead, type HttpRequestHead, type OpenHead, type ResponseHead } from './head.ts';
import type { TunnelStream } from './stream.ts';
import {
  destroyTestSessions,
  echo,
  errorOf,
  httpHead,
  nextTurn,
  OK,
  readAll,
  serverWithRawPeer,
  sessions,
  writeAll,
} from './testing/session-harness.ts';

describe('Session streams: open, reply, FIN, RESET, limits', () => {
  afterEach(destroyTestSessions);

  it('opens, replies and carries bodies both ways', async () => {
    const seen: OpenHead[] = [];
    const { client, server } = sessions({
      onServerStream: (s) => {
        seen.push(s.head);
        void readAll(s).then((body) => {
          s.reply({ status: 201, statusMessage: 'Created' });
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
    expect(resp).toEqual({ status: 201, statusMessage: 'Created' });
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
          s.reply({ status: 204, statusMessage: '' }, true);
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

    while (!serverSide.has('/client-resets')) await nextTurn();
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
    while (!srv) await nextTurn();
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

    const accepted: TunnelStream[] = [];
    const { server, peer } = serverWithRawPeer({ maxStreams: 2 }, (s) => accepted.push(s));
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
    while (accepted.length < 3) await nextTurn();
    expect(accepted[2].id).toBe(9);
  });

  it('closes the session on an out-of-order or wrong-parity OPEN and on a bad frame', async () => {
    for (const bad of [
      [encodeFrame(FrameType.OPEN, 0, 3, encodeOpenHead(httpHead())), encodeFrame(FrameType.OPEN, 0, 1, encodeOpenHead(httpHead()))],
      [encodeFrame(FrameType.OPEN, 0, 2, encodeOpenHead(httpHead()))],
      [Buffer.from([9, 0, 0, 0, 0, 1, 0, 0, 0, 0])],
    ]) {
      const { server, peer } = serverWithRawPeer({}, (s) => s.on('error', () => {}));
      peer.send(...bad);
      const [err] = (await once(server, 'close')) as [TunnelError];
      expect(err).toBeInstanceOf(ProtocolError);
      expect(err.code).toBe('TUN_ERR_PROTOCOL');
      expect(server.isClosed).toBe(true);
    }
  });

  it('a malformed OPEN head resets only that stream with PROTOCOL', async () => {
    const { server, peer } = serverWithRawPeer({}, () => {});
    peer.send(encodeFrame(FrameType.OPEN, 0, 1, Buffer.from([1, 0, 1, 0, 9])));
    const r = await peer.waitFor((f) => f.type === FrameType.RESET && f.streamId === 1);
    expect(r.payload.readUInt32BE(0)).toBe(ResetCode.PROTOCOL);
    expect(server.isClosed).toBe(false);
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
});
