import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '@tunnel/testing';
import { silentLogger } from '@tunnel/tunnel-protocol';
import { Router } from './router.ts';
import { TcpPorts } from './tcp-ports.ts';

let ports: TcpPorts | undefined;
afterEach(async () => {
  await ports?.close();
});

describe('TcpPorts claims', () => {
  it('accepts fixed ports, opens range ports on demand, refuses the rest with a typed reason', async () => {
    const fixed = await freePort();
    const dynamic = await freePort();
    ports = new TcpPorts(new Router(), { bind: '127.0.0.1', fixed: [fixed], range: { from: dynamic, to: dynamic } }, silentLogger);
    await ports.start();
    const claim = await ports.claim([fixed, dynamic, 22, 65000]);
    expect(claim.accepted).toEqual([fixed, dynamic]);
    expect(claim.refused.map((r) => [r.port, r.code])).toEqual([
      [22, 'TUN_ERR_TCP_PORT_REFUSED'],
      [65000, 'TUN_ERR_TCP_PORT_REFUSED'],
    ]);
    expect(claim.refused[0].reason).toMatch(/not offered by this exit server \(--tcp-port .* and --tcp-port-range/);
    expect(ports.stats().map((s) => [s.port, s.dynamic])).toEqual([
      [fixed, false],
      [dynamic, true],
    ]);
  });

  it('keeps an on-demand port while any client holds it and closes it after the last', async () => {
    const dynamic = await freePort();
    ports = new TcpPorts(new Router(), { bind: '127.0.0.1', fixed: [], range: { from: dynamic, to: dynamic + 1 } }, silentLogger);
    await Promise.all([ports.claim([dynamic]), ports.claim([dynamic])]);
    ports.release([dynamic]);
    expect(ports.stats().map((s) => s.port)).toEqual([dynamic]);
    ports.release([dynamic]);
    expect(ports.stats()).toEqual([]);
  });

  it('refuses a range port that cannot be bound, naming the cause', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as AddressInfo).port;
    ports = new TcpPorts(new Router(), { bind: '127.0.0.1', fixed: [], range: { from: port, to: port } }, silentLogger);
    const claim = await ports.claim([port]);
    expect(claim.accepted).toEqual([]);
    expect(claim.refused[0].reason).toMatch(/could not be opened: EADDRINUSE/);
    busy.close();
  });

  it('refuses every port when the server offers none', async () => {
    ports = new TcpPorts(new Router(), { bind: '127.0.0.1', fixed: [] }, silentLogger);
    const claim = await ports.claim([2222]);
    expect(claim.refused[0].reason).toMatch(/offers no TCP ports/);
  });
});
