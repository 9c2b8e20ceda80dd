// Many lightweight edge-client sessions in one process, for the scale test. Bundled by the bench's
// build (with the protocol libraries) and run as a child:
//   node idle-clients.js '{"url":"ws://127.0.0.1:P","from":1,"to":2500,"concurrency":64}'
// with the token in TUNNEL_TOKEN. Client i connects with the real handshake (bearer token +
// x-tunnel-hello, id `c<i>`, hostname `c<i>.bench.test`), runs a client-role Session over the
// transport the edge client uses (the protocol lib's raw WebSocket framing on the socket) and answers
// every HTTP stream 200 with the body `c<i>`. Prints `attached <n>` as sessions come up,
// `done <n> <ms>` when all are attached (or `failed <i> <reason>` after 3 tries), then stays
// idle until SIGTERM or stdin closes.
import { request } from 'node:http';
import type { Socket } from 'node:net';
import {
  clientLimits,
  HELLO_HEADER,
  PROTOCOL_VERSION,
  Session,
  TUNNEL_PATH,
  WELCOME_HEADER,
  bearer,
  decodeWelcome,
  encodeHello,
  type Transport,
  type Welcome,
} from '@tunnel/tunnel-protocol';
import { newWebSocketKey, rawWebSocketTransport, webSocketAccept, systemClock } from '@tunnel/tunnel-io';

/** The command-line argument (JSON). */
interface IdleOptions {
  /** The exit server's control URL (ws://host:port). */
  readonly url: string;
  /** First client number. */
  readonly from: number;
  /** Last client number. */
  readonly to: number;
  /** Handshakes in flight (default 64). */
  readonly concurrency?: number;
}

const opts = JSON.parse(process.argv[2] ?? '{}') as IdleOptions;
const token = process.env.TUNNEL_TOKEN ?? '';
const url = new URL(`${opts.url.replace(/\/$/, '')}${TUNNEL_PATH}`);
const concurrency = opts.concurrency ?? 64;
const TRIES = 3;
/** Give up a handshake after this long, ms. */
const HANDSHAKE_TIMEOUT_MS = 30_000;

const sessions: Session[] = [];
let attached = 0;
let failed = false;
const started = Date.now();

/** Serves client `i`'s session: every stream is answered 200 with the body `c<i>`. */
function serve(i: number, transport: Transport, welcome: Welcome): Session {
  const body = `c${i}`;
  // Protocol v2: an HTTP stream carries raw HTTP/1.1 bytes both ways.
  const answer = Buffer.from(
    `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
  );
  const session = new Session({
    clock: systemClock,
    role: 'client',
    transport,
    limits: clientLimits(welcome),
    onStream: (stream) => {
      stream.on('error', () => {});
      stream.resume(); // drain the request bytes
      stream.end(answer);
    },
  });
  session.once('close', () => {
    if (!stopping) process.stdout.write(`lost c${i}\n`);
  });
  return session;
}

/**
 * The WebSocket handshake by hand, as the edge client dials (GET with Upgrade, then a check of
 * Sec-WebSocket-Accept); resolves the upgraded socket, the bytes that came with the 101 and the
 * welcome.
 */
function handshake(i: number): Promise<{ socket: Socket; head: Buffer; welcome: Welcome }> {
  const key = newWebSocketKey();
  const hello = encodeHello({
    version: PROTOCOL_VERSION,
    clientId: `c${i}`,
    hostnames: [`c${i}.bench.test`],
    tcpPorts: [],
    capabilities: ['http'],
  });
  const upgrade = { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': key, 'Sec-WebSocket-Version': '13' };
  const headers = { authorization: bearer(token), [HELLO_HEADER]: hello, ...upgrade };
  const req = request({ hostname: url.hostname, port: url.port, path: url.pathname, agent: false, headers });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => req.destroy(Object.assign(new Error('handshake timed out'), { code: 'ETIMEDOUT' })),
      HANDSHAKE_TIMEOUT_MS,
    );
    req.once('upgrade', (res, socket: Socket, head: Buffer) => {
      clearTimeout(timer);
      try {
        if (res.headers['sec-websocket-accept'] !== webSocketAccept(key)) throw new Error('bad Sec-WebSocket-Accept');
        resolve({ socket, head, welcome: decodeWelcome(res.headers[WELCOME_HEADER] as string | undefined) });
      } catch (err) {
        socket.destroy();
        reject(err);
      }
    });
    req.once('response', (res) => {
      clearTimeout(timer);
      res.resume();
      reject(new Error(`HTTP ${res.statusCode}`));
    });
    req.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}

async function connectOne(i: number): Promise<void> {
  const { socket, head, welcome } = await handshake(i);
  sessions.push(serve(i, rawWebSocketTransport(socket, { role: 'client', head }), welcome));
}

async function attach(i: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await connectOne(i);
      attached++;
      if (attached % 250 === 0) process.stdout.write(`attached ${attached}\n`);
      return;
    } catch (err) {
      if (attempt >= TRIES) {
        failed = true;
        process.stdout.write(`failed c${i} ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
        return;
      }
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}

let next = opts.from;
async function worker(): Promise<void> {
  while (next <= opts.to && !failed) await attach(next++);
}

let stopping = false;
const stop = (): void => {
  stopping = true;
  for (const s of sessions) s.close();
  setTimeout(() => process.exit(0), 200).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();

await Promise.all(Array.from({ length: concurrency }, worker));
if (!failed) process.stdout.write(`done ${attached} ${Date.now() - started}\n`);
