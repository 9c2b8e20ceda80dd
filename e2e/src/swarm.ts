import WebSocket from 'ws';
import {
  Backoff,
  DEFAULT_LIMITS,
  HELLO_HEADER,
  PROTOCOL_VERSION,
  Session,
  TUNNEL_PATH,
  WELCOME_HEADER,
  bearer,
  clientLimits,
  decodeWelcome,
  encodeHello,
} from '@tunnel/tunnel-protocol';
import { webSocketTransport } from '@tunnel/tunnel-io/testing';
import { systemClock } from '@tunnel/tunnel-io';

/** Reconnect settings of every swarm client, as the edge client's --reconnect-min/--reconnect-max. */
export interface SwarmOptions {
  readonly url: string;
  readonly token: string;
  readonly count: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
}

/**
 * Many light edge-client sessions in the test process: each does the real handshake, runs a
 * client-role Session, and on losing it reconnects with the edge client's own {@link Backoff}
 * (exponential, capped, full jitter), so a reconnect storm can be measured without 500
 * processes. `attachedAt` records every successful (re)connection, ms since the epoch.
 */
export class Swarm {
  /** When each successful connection came up, ms since the epoch, in order. */
  readonly attachedAt: number[] = [];
  private readonly live = new Set<Session>();
  private stopped = false;

  constructor(private readonly opts: SwarmOptions) {}

  /** Sessions up now. */
  get attached(): number {
    return this.live.size;
  }

  /** Connects every client (first attempts in parallel batches of 50). */
  async start(): Promise<void> {
    const ids = Array.from({ length: this.opts.count }, (_, i) => i);
    for (let i = 0; i < ids.length; i += 50)
      await Promise.all(
        ids.slice(i, i + 50).map((id) => this.run(id, new Backoff(this.opts.reconnectMinMs, this.opts.reconnectMaxMs), true)),
      );
  }

  /** Closes every session and stops reconnecting. */
  stop(): void {
    this.stopped = true;
    for (const s of this.live) s.close();
  }

  /** One client's life: connect; on failure or loss, back off and connect again. */
  private async run(id: number, backoff: Backoff, first: boolean): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const session = await this.connect(id).catch(() => undefined);
      if (session) {
        this.attachedAt.push(Date.now());
        this.live.add(session);
        const since = Date.now();
        session.once('close', () => {
          this.live.delete(session);
          // As the edge client: a session that held for a while earns a fresh, short backoff.
          if (Date.now() - since > this.opts.reconnectMinMs * 4) backoff.reset();
          void this.later(id, backoff);
        });
        return;
      }
      if (first) return; // the initial fill is the test's set-up: it must just work
      await new Promise((r) => setTimeout(r, backoff.next()));
    }
  }

  private async later(id: number, backoff: Backoff): Promise<void> {
    await new Promise((r) => setTimeout(r, backoff.next()));
    await this.run(id, backoff, false);
  }

  private connect(id: number): Promise<Session> {
    return new Promise((resolve, reject) => {
      const hello = encodeHello({
        version: PROTOCOL_VERSION,
        clientId: `swarm-${id}`,
        hostnames: [`s${id}.swarm.test`],
        tcpPorts: [],
        capabilities: ['http'],
      });
      const ws = new WebSocket(`${this.opts.url}${TUNNEL_PATH}`, {
        headers: { authorization: bearer(this.opts.token), [HELLO_HEADER]: hello },
        perMessageDeflate: false,
        handshakeTimeout: 10_000,
      });
      let limits = DEFAULT_LIMITS;
      ws.on('upgrade', (res) => {
        const w = decodeWelcome(res.headers[WELCOME_HEADER] as string);
        limits = clientLimits(w);
      });
      ws.on('unexpected-response', (_req, res) => {
        ws.terminate();
        reject(new Error(`HTTP ${res.statusCode}`));
      });
      ws.on('error', reject);
      ws.on('open', () => {
        const session = new Session({
          clock: systemClock,
          role: 'client',
          transport: webSocketTransport(ws),
          limits,
          onStream: (s) => s.on('error', () => {}).end(),
        });
        resolve(session);
      });
    });
  }
}
