import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ReadBufferPool } from './read-pool.ts';
import { readIntoPool } from './pooled-socket.ts';
import { NODE_INTERNALS_WARNING_CODE, adoptionBlocker, type SocketInternals } from './socket-internals.ts';

// Pooled reads move an accepted socket's TCP handle into a new net.Socket: node internals. On a
// node where they changed, the first test fails (naming the node and what changed), and the
// tunnel falls back to node's own copying reads (the other tests: each change, simulated, still
// moves every byte correctly). CI runs this file on the host's node and on Node 24.

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const warnings: Error[] = [];
const onWarning = (w: Error) => {
  if ((w as Error & { code?: string }).code === NODE_INTERNALS_WARNING_CODE) warnings.push(w);
};
beforeAll(() => {
  process.on('warning', onWarning);
});
afterAll(() => {
  process.off('warning', onWarning);
});

async function connectedPair(): Promise<{ client: Socket; accepted: Socket; server: Server }> {
  const server: Server = createServer({ allowHalfOpen: true });
  const acceptedP = once(server, 'connection') as Promise<[Socket]>;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
  const [accepted] = await acceptedP;
  await once(client, 'connect');
  cleanups.push(() => {
    client.destroy();
    accepted.destroy();
    server.close();
  });
  return { client, accepted, server };
}

/** Sends 8 MiB one way and a reply the other; checks both arrive whole. */
async function roundTrip(client: Socket, socket: Socket): Promise<void> {
  const hash = createHash('sha256');
  let bytes = 0;
  socket.on('data', (c: Buffer) => {
    hash.update(c);
    bytes += c.length;
  });
  const body = randomBytes(8 * 1024 * 1024);
  client.end(body);
  await once(socket, 'end');
  expect(bytes).toBe(body.length);
  expect(hash.digest('hex')).toBe(createHash('sha256').update(body).digest('hex'));
  const reply: Buffer[] = [];
  client.on('data', (c: Buffer) => reply.push(c));
  socket.end('thanks');
  await once(client, 'end');
  expect(Buffer.concat(reply).toString()).toBe('thanks');
}

describe('node internals that pooled reads rely on', () => {
  it(`are all there on this node (${process.version}), and adopting really moves the handle`, async () => {
    const { client, accepted, server } = await connectedPair();
    const blocker = adoptionBlocker(accepted);
    expect(
      blocker,
      `node ${process.version} changed an internal that pooled reads rely on: ${blocker}. The tunnel still works (copying reads), but slower: adapt socket-internals.ts.`,
    ).toBeUndefined();
    const handle = (accepted as unknown as SocketInternals)._handle;
    const adopted = readIntoPool(accepted, new ReadBufferPool({ poison: true }));
    expect(adopted.pooled, `node ${process.version}: readIntoPool did not adopt an accepted plain-TCP socket`).toBe(true);
    const moved = adopted.socket as unknown as SocketInternals;
    expect(moved._handle, `node ${process.version}: new net.Socket({ handle }) did not take the handle`).toBe(handle);
    expect(moved._server, `node ${process.version}: the accepting server did not move with the connection`).toBe(server);
    expect((accepted as unknown as SocketInternals)._handle).toBeNull();
    await roundTrip(client, adopted.socket);
    expect(warnings).toEqual([]);
  });

  it('runs on the node the CI asked for (TUNNEL_TEST_NODE_VERSION, set by scripts/ci/test-node24.mjs: the Node 24 run is really on 24)', () => {
    expect(process.version).toBe(process.env.TUNNEL_TEST_NODE_VERSION ?? process.version);
  });
});

describe('on a node whose internals changed (simulated), sockets keep copying reads and stay correct', () => {
  // (`handle.reading` is checked too, but node's own reads use it: hiding it breaks node itself.)
  const changes: Array<{ what: string; reason: RegExp; change: (s: Socket) => void }> = [
    {
      what: 'no handle.useUserBuffer()',
      reason: /no useUserBuffer\(\)/,
      change: (s) => hide((s as unknown as SocketInternals)._handle, 'useUserBuffer'),
    },
    { what: 'no handle.readStop()', reason: /no readStop\(\)/, change: (s) => hide((s as unknown as SocketInternals)._handle, 'readStop') },
    { what: 'no socket._server', reason: /no _server field/, change: (s) => delete (s as unknown as Partial<SocketInternals>)._server },
  ];

  it.each(changes)('$what', async ({ reason, change }) => {
    const { client, accepted } = await connectedPair();
    change(accepted);
    expect(adoptionBlocker(accepted)).toMatch(reason);
    const kept = readIntoPool(accepted, new ReadBufferPool({ poison: true }));
    expect(kept).toMatchObject({ socket: accepted, pooled: false });
    await roundTrip(client, kept.socket);
  });

  it('says so once per process, as a warning naming the node', () => {
    expect(warnings).toHaveLength(1);
    expect(warnings[0].message).toContain(`node ${process.version}: the TCP handle has no useUserBuffer()`);
    expect(warnings[0].message).toContain('copied, correct, slower');
  });
});

/** Shadows a member of node's handle with undefined on this one object (the prototype stays). */
function hide(target: unknown, key: string): void {
  Object.defineProperty(target, key, { value: undefined, configurable: true, writable: true });
}
