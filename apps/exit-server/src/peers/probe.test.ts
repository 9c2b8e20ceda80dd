import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { httpProbe, parseHealthz } from './probe.ts';

describe('parseHealthz', () => {
  it('reads the instance id and client count of a 200', () => {
    expect(parseHealthz(200, '{"status":"ok","instanceId":"a-1","clients":3}')).toEqual({ kind: 'live', instanceId: 'a-1', clients: 3 });
    expect(parseHealthz(200, '{"status":"ok","instanceId":"a-1"}')).toEqual({ kind: 'live', instanceId: 'a-1', clients: 0 });
  });
  it('anything but 200 is draining; garbage or a missing id is silence', () => {
    expect(parseHealthz(503, '{"status":"draining"}')).toEqual({ kind: 'draining' });
    expect(parseHealthz(200, 'not json')).toEqual({ kind: 'silent' });
    expect(parseHealthz(200, '{"status":"ok"}')).toEqual({ kind: 'silent' });
    expect(parseHealthz(200, '{"instanceId":"bad id"}')).toEqual({ kind: 'silent' });
    expect(parseHealthz(200, 'null')).toEqual({ kind: 'silent' });
  });
});

describe('httpProbe', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  async function serve(handler: Parameters<typeof createServer>[1]): Promise<number> {
    const s = createServer(handler);
    server = s;
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return (s.address() as AddressInfo).port;
  }

  it('GETs /healthz', async () => {
    const port = await serve((req, res) =>
      res.end(JSON.stringify({ status: 'ok', instanceId: req.url === '/healthz' ? 'p-1' : 'wrong', clients: 1 })),
    );
    expect(await httpProbe(false)('127.0.0.1', port, 1000)).toEqual({ kind: 'live', instanceId: 'p-1', clients: 1 });
  });

  it('a peer that never answers is silent after the timeout; an oversized body is silent', async () => {
    const port = await serve((req, res) => {
      if (req.url === '/healthz') res.write('{"instanceId":"' + 'x'.repeat(10_000));
    });
    expect(await httpProbe(false)('127.0.0.1', port, 200)).toEqual({ kind: 'silent' });
  });

  it('a refused connection is silent', async () => {
    const port = await serve(() => {});
    const s = server;
    server = undefined;
    await new Promise<void>((r) => (s ? s.close(() => r()) : r()));
    expect(await httpProbe(false)('127.0.0.1', port, 1000)).toEqual({ kind: 'silent' });
  });
});
