// Many lightweight edge-client sessions in one process, for the scale test. Bundled by the bench's
// build (with the protocol library) and run as a child:
//   node idle-clients.js '{"url":"ws://127.0.0.1:P","from":1,"to":2500,"concurrency":64}'
// with the token in TUNNEL_TOKEN. Client i connects with the real handshake (bearer token +
// x-tunnel-hello, id `c<i>`, hostname `c<i>.bench.test`), runs a client-role Session and answers
// every HTTP stream 200 with the body `c<i>`. Prints `attached <n>` as sessions come up,
// `done <n> <ms>` when all are attached (or `failed <i> <reason>` after 3 tries), then stays
// idle until SIGTERM or stdin closes.
import WebSocket from 'ws';
import {
  DEFAULT_LIMITS,
  HELLO_HEADER,
  PROTOCOL_VERSION,
  Session,
  TUNNEL_PATH,
  WELCOME_HEADER,
  bearer,
  decodeWelcome,
  encodeHello,
  webSocketTransport,
  type Transport,
  type Welcome,
} from '@tunnel/tunnel-protocol';

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
const url = `${opts.url.replace(/\/$/, '')}${TUNNEL_PATH}`;
const concurrency = opts.concurrency ?? 64;
const TRIES = 3;
const zeroMask = (mask: Buffer): Buffer => mask.fill(0);

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
    role: 'client',
    transport,
    limits: {
      ...DEFAULT_LIMITS,
      maxFrameBytes: welcome.limits.maxFrameBytes,
      maxHeaderBytes: welcome.limits.maxHeaderBytes,
      streamWindow: welcome.limits.streamWindow,
      maxStreams: welcome.limits.maxStreams,
      pingIntervalMs: welcome.limits.pingIntervalMs,
      idleTimeoutMs: welcome.limits.idleTimeoutMs,
    },
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

function connectOne(i: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const hello = encodeHello({
      version: PROTOCOL_VERSION,
      clientId: `c${i}`,
      hostnames: [`c${i}.bench.test`],
      tcpPorts: [],
      capabilities: ['http'],
    });
    const ws = new WebSocket(url, {
      headers: { authorization: bearer(token), [HELLO_HEADER]: hello },
      perMessageDeflate: false,
      generateMask: zeroMask,
      skipUTF8Validation: true,
      handshakeTimeout: 30_000,
      maxPayload: 64 * 1024 * 1024,
    });
    let welcome: Welcome;
    ws.on('upgrade', (res) => {
      try {
        welcome = decodeWelcome(res.headers[WELCOME_HEADER] as string | undefined);
      } catch (err) {
        ws.terminate();
        reject(err);
      }
    });
    ws.on('unexpected-response', (_req, res) => {
      ws.terminate();
      reject(new Error(`HTTP ${res.statusCode}`));
    });
    ws.on('error', (err) => reject(err));
    ws.on('open', () => {
      sessions.push(serve(i, webSocketTransport(ws), welcome));
      resolve();
    });
  });
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
