import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { dial } from './dial.ts';
import { EDGE_CLIENT_USER_AGENT, EDGE_CLIENT_VERSION } from './user-agent.ts';

let server: Server | undefined;

afterEach(async () => {
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

/** A server that answers every upgrade 401 and hands over the request headers it saw. */
async function headersOfUpgrade(headers: Record<string, string>): Promise<IncomingHttpHeaders> {
  let seen: IncomingHttpHeaders | undefined;
  const s = createServer();
  server = s;
  s.on('upgrade', (req, socket) => {
    seen = req.headers;
    socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  const res = await dial(new URL(`ws://127.0.0.1:${port}/tunnel`), { headers, timeoutMs: 5000 }).result;
  expect(res.kind).toBe('refused');
  if (seen === undefined) throw new Error('the server saw no upgrade');
  return seen;
}

describe('dial', () => {
  it('names the client and its version in User-Agent (WAFs block upgrades without one)', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(EDGE_CLIENT_VERSION).toBe(pkg.version);
    expect(EDGE_CLIENT_USER_AGENT).toBe(`tunnel-edge-client/${pkg.version}`);
    const seen = await headersOfUpgrade({ authorization: 'Bearer t' });
    expect(seen['user-agent']).toBe(EDGE_CLIENT_USER_AGENT);
    expect(seen.upgrade).toBe('websocket');
    expect(seen.authorization).toBe('Bearer t');
  });

  it('lets the caller name itself instead', async () => {
    const seen = await headersOfUpgrade({ 'User-Agent': 'my-embedding/2' });
    expect(seen['user-agent']).toBe('my-embedding/2');
  });
});
