import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { FrameDecoder } from '../decode.ts';
import type { Frame } from '../frame.ts';
import type { HttpRequestHead, ResponseHead } from '../head.ts';
import type { SessionLimits } from '../limits.ts';
import { Session } from '../session.ts';
import type { TunnelStream } from '../stream.ts';
import type { Transport } from '../transport.ts';
import { createTransportPair, type PairOptions, type TestTransport } from './pair.ts';
import { realClock } from './real-clock.ts';

/** Shared by the session test files: sessions over an in-memory transport pair, and a hand-driven raw peer. */

const open: Session[] = [];

/** Destroys the sessions made since the last call (run it in afterEach). */
export function destroyTestSessions(): void {
  for (const s of open.splice(0)) {
    // Streams a test left open fail with the session; they are not what the test checks.
    for (const st of (s as unknown as { streams: { values(): Iterable<TunnelStream> } }).streams.values()) st.on('error', () => {});
    s.destroy();
  }
}

/** Keep-alive off: tests that want pings or the idle timeout turn them on. */
export const NO_PING: Partial<SessionLimits> = { pingIntervalMs: 0, idleTimeoutMs: 0 };

/** What {@link sessions} builds: limits per side, the pair's options, and each side's stream handler. */
export interface SessionsOptions {
  /** Limits of the client role. */
  readonly client?: Partial<SessionLimits>;
  /** Limits of the server role. */
  readonly server?: Partial<SessionLimits>;
  /** Options of the in-memory transport pair. */
  readonly pair?: PairOptions;
  /** Streams the client opens on the server. */
  readonly onServerStream?: (s: TunnelStream) => void;
  /** Streams the server opens on the client. */
  readonly onClientStream?: (s: TunnelStream) => void;
}

/** A session on real timers, without keep-alive unless `limits` ask. */
function session(
  role: 'client' | 'server',
  transport: Transport,
  limits: Partial<SessionLimits> = {},
  onStream?: (s: TunnelStream) => void,
) {
  return new Session({ clock: realClock, role, transport, limits: { ...NO_PING, ...limits }, onStream });
}

/** A client and a server session over an in-memory pair, without keep-alive unless asked. */
export function sessions(opts: SessionsOptions = {}) {
  const [ta, tb] = createTransportPair(opts.pair);
  const client = session('client', ta, opts.client, opts.onClientStream);
  const server = session('server', tb, opts.server, opts.onServerStream);
  open.push(client, server);
  return { client, server, ta, tb };
}

/** A server session whose peer is a {@link rawPeer} the test drives frame by frame. */
export function serverWithRawPeer(limits: Partial<SessionLimits> = {}, onStream?: (s: TunnelStream) => void) {
  const [ta, tb] = createTransportPair();
  const server = session('server', tb, limits, onStream);
  open.push(server);
  return { server, peer: rawPeer(ta) };
}

/** An HTTP open head for `target`. */
export function httpHead(target = '/', method = 'GET'): HttpRequestHead {
  return {
    kind: 'http',
    method,
    target,
    authority: 'app.example.com',
    remoteAddress: '203.0.113.5',
    remotePort: 40000,
  };
}

/** A 200 response head. */
export const OK: ResponseHead = { status: 200, statusMessage: '' };

/** Reads the readable half to its end (not with for-await, which destroys the duplex at the end). */
export function readAll(stream: TunnelStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    stream.on('data', (c: Buffer) => parts.push(c));
    stream.once('end', () => resolve(Buffer.concat(parts)));
    stream.once('error', reject);
  });
}

/** Writes `data` in chunks honouring backpressure, then ends the stream. */
export async function writeAll(stream: TunnelStream, data: Buffer, chunk = 50_000): Promise<void> {
  for (let off = 0; off < data.length; off += chunk) {
    if (!stream.write(data.subarray(off, off + chunk))) await once(stream, 'drain');
  }
  stream.end();
}

/** SHA-256 of `b`, hex. */
export function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** The stream's next error. */
export function errorOf(stream: TunnelStream): Promise<Error> {
  return new Promise((resolve) => stream.once('error', resolve));
}

/** Resolves after the I/O of the current event-loop turn (to poll a condition without a fixed sleep). */
export function nextTurn(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** A hand-driven peer on one transport end: decodes what the session sends, sends raw frames. */
export function rawPeer(t: TestTransport) {
  const frames: Frame[] = [];
  let waiters: Array<() => void> = [];
  const dec = new FrameDecoder({ maxFrameBytes: 1 << 24, maxHeaderBytes: 1 << 24 }, (f) => {
    frames.push({ ...f, payload: Buffer.from(f.payload) });
    const w = waiters;
    waiters = [];
    for (const fn of w) fn();
  });
  t.bind({ data: (c) => dec.write(c), drain: () => {}, close: () => {} });
  return {
    frames,
    send: (...bufs: Buffer[]) => t.write(bufs),
    async waitFor(pred: (f: Frame) => boolean): Promise<Frame> {
      for (;;) {
        const hit = frames.find(pred);
        if (hit) return hit;
        await new Promise<void>((r) => waiters.push(r));
      }
    },
  };
}

/** Echo handler: replies 200 and pipes the request body back. */
export function echo(stream: TunnelStream): void {
  stream.on('error', () => {});
  stream.reply(OK);
  stream.pipe(stream);
}
