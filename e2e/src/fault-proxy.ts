import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** What the proxy does to the bytes between the two ends. */
export type FaultMode =
  /** Bytes pass as they come. */
  | 'pass'
  /** Nothing is read either way (backpressure: both ends' writes stall, nothing is lost). */
  | 'pause'
  /** Bytes are read and dropped either way; connections stay open (a dead route: no FIN, no RST). */
  | 'blackhole';

/** One proxied connection: both sockets. */
interface Pair {
  readonly a: Socket;
  readonly b: Socket;
}

/**
 * A TCP proxy the tests control, put between an edge client and the exit server's control port:
 * `pause`, `blackhole`, `cut` (reset every connection now) and `slow` (a byte rate each way).
 * New connections get the current mode.
 */
export class FaultProxy {
  private readonly server: Server;
  private readonly pairs = new Set<Pair>();
  private mode: FaultMode = 'pass';
  /** Bytes per second each way; 0 = unlimited. */
  private rate = 0;
  /** Connections accepted so far. */
  accepted = 0;

  private constructor(
    private readonly targetPort: number,
    readonly port: number,
    server: Server,
  ) {
    this.server = server;
  }

  /** Starts a proxy on an ephemeral loopback port forwarding to `targetPort`. */
  static async start(targetPort: number): Promise<FaultProxy> {
    const holder: { proxy?: FaultProxy } = {};
    const server = createServer((s) => holder.proxy?.accept(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const proxy = new FaultProxy(targetPort, (server.address() as AddressInfo).port, server);
    holder.proxy = proxy;
    return proxy;
  }

  /** `ws://127.0.0.1:<port>`: the URL an edge client dials to go through the proxy. */
  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Connections open now. */
  get open(): number {
    return this.pairs.size;
  }

  /** Switches every connection (and later ones) to `mode`. */
  set(mode: FaultMode): void {
    const healed = this.mode === 'blackhole' && mode !== 'blackhole';
    this.mode = mode;
    // Connections that went through the blackhole lost bytes for good (unlike TCP, which would
    // retransmit): their streams are corrupt, so healing resets them, as a route change would.
    if (healed) this.cut();
    for (const p of this.pairs) this.apply(p);
  }

  /** Limits each direction of each connection to `bytesPerSecond` (0: unlimited). */
  slow(bytesPerSecond: number): void {
    this.rate = bytesPerSecond;
  }

  /** Resets every open connection at once (a cable pulled with RST). */
  cut(): void {
    for (const p of this.pairs) {
      p.a.resetAndDestroy();
      p.b.resetAndDestroy();
    }
    this.pairs.clear();
  }

  /** Stops listening and cuts everything. */
  async close(): Promise<void> {
    this.cut();
    await new Promise((r) => this.server.close(r));
  }

  private accept(a: Socket): void {
    this.accepted++;
    const b = connect(this.targetPort, '127.0.0.1');
    const pair = { a, b };
    this.pairs.add(pair);
    const end = () => {
      // A blackholed route carries no FIN or RST either: the other end learns nothing.
      if (this.mode === 'blackhole' && !(a.destroyed && b.destroyed)) return;
      this.pairs.delete(pair);
      a.destroy();
      b.destroy();
    };
    for (const s of [a, b]) {
      s.on('error', end);
      s.on('close', end);
    }
    this.forward(a, b);
    this.forward(b, a);
    this.apply(pair);
  }

  private forward(from: Socket, to: Socket): void {
    from.on('data', (chunk: Buffer) => {
      if (this.mode === 'blackhole') return;
      if (this.rate > 0) {
        // Hold reading for as long as this chunk takes at the rate.
        from.pause();
        setTimeout(
          () => {
            if (this.mode === 'pass') from.resume();
          },
          (chunk.length / this.rate) * 1000,
        );
      }
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => this.mode === 'pass' && from.resume());
      }
    });
    from.on('end', () => {
      if (this.mode !== 'blackhole') to.end();
    });
  }

  private apply(p: Pair): void {
    if (this.mode === 'pause') {
      p.a.pause();
      p.b.pause();
    } else {
      p.a.resume();
      p.b.resume();
    }
  }
}
