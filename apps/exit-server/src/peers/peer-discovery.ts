import { lookup } from 'node:dns/promises';
import { EventEmitter } from 'node:events';
import { unbracketHost } from '@tunnel/config';
import { PEERS_LIMITS, type Logger } from '@tunnel/tunnel-protocol';
import { PeerSet, type PeerEntry } from './peer-set.ts';
import type { Probe } from './probe.ts';

/** Resolves a name to every address it has (A and AAAA). */
export type Resolver = (name: string) => Promise<string[]>;

/** getaddrinfo through node: /etc/hosts, Docker's embedded DNS and Cloud Map's private zone all answer it. */
export const systemResolver: Resolver = async (name) => (await lookup(name, { all: true, verbatim: true })).map((a) => a.address);

/** Settings of {@link PeerDiscovery}. */
export interface PeerDiscoveryOptions {
  /** This server's instance id (never advertised as its own peer). */
  readonly selfId: string;
  /** Static peers (`--peer`). */
  readonly peers: ReadonlyArray<{ readonly host: string; readonly port: number }>;
  /** DNS-discovered peers (`--peers-dns`). */
  readonly dns?: { readonly name: string; readonly port: number };
  /** Re-resolve and probe every this long, ms; also each probe's timeout. */
  readonly intervalMs: number;
  /** A peer silent this long leaves the set, ms. */
  readonly timeoutMs: number;
  /** Asks one peer for its id. */
  readonly probe: Probe;
  /** Resolves `dns.name`; injectable for tests. */
  readonly resolve?: Resolver;
}

function target(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function split(t: string): { host: string; port: number } {
  const i = t.lastIndexOf(':');
  return { host: unbracketHost(t.slice(0, i)), port: Number(t.slice(i + 1)) };
}

/**
 * Learns the live exit servers: every `intervalMs` it re-resolves the DNS name, then probes
 * each peer's /healthz, and feeds a {@link PeerSet}. Emits `change` (live ids) when the set of
 * live peers changes. The I/O half; the rules live in PeerSet.
 */
export class PeerDiscovery extends EventEmitter {
  private readonly set: PeerSet;
  private readonly resolve: Resolver;
  private lastDns: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private announced = '';
  private everDecided = false;

  constructor(
    private readonly opts: PeerDiscoveryOptions,
    private readonly log: Logger,
  ) {
    super();
    this.set = new PeerSet(opts.selfId, opts.timeoutMs);
    this.resolve = opts.resolve ?? systemResolver;
  }

  /** True when any peer source is configured. */
  get enabled(): boolean {
    return this.opts.peers.length > 0 || this.opts.dns !== undefined;
  }

  /** Live peers' instance ids, sorted. */
  get live(): string[] {
    return this.set.live;
  }

  /**
   * True once every peer first listed has answered or stayed silent for `timeoutMs` (then for
   * good: a peer that appears later must not take a serving server out of rotation), or when no
   * peer source is configured. A first probe that timed out is not an answer: counting it as one
   * made a replacement on a loaded host ready with no client (its peers' counts unknown, so 0).
   */
  get settled(): boolean {
    return !this.enabled || this.everDecided;
  }

  /** Most distinct clients any live peer holds. */
  get maxPeerClients(): number {
    return this.set.maxPeerClients;
  }

  /** Every probed address and its state, for /status. */
  snapshot(): PeerEntry[] {
    return this.set.snapshot();
  }

  /** Starts the first round now and one every interval. */
  start(): void {
    if (!this.enabled || this.timer) return;
    this.running = this.round().finally(() => (this.running = undefined));
    this.timer = setInterval(() => {
      // A round slower than the interval is not stacked on.
      this.running ??= this.round().finally(() => (this.running = undefined));
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  /** Runs one round now (tests); resolves when its probes are in. */
  async round(): Promise<void> {
    const targets = new Set(this.opts.peers.map((p) => target(p.host, p.port)));
    const dns = this.opts.dns;
    if (dns) {
      try {
        this.lastDns = (await this.resolve(dns.name)).map((a) => target(a, dns.port));
      } catch (err) {
        // Keep the last answer: a DNS hiccup must not empty the set and detach every client.
        this.log.warn(
          { name: dns.name, err: (err as NodeJS.ErrnoException).code ?? (err as Error).message },
          'peer DNS lookup failed: keeping the last answer',
        );
      }
      for (const t of this.lastDns) targets.add(t);
    }
    this.set.setTargets([...targets].slice(0, PEERS_LIMITS.maxInstances), Date.now());
    await Promise.all(
      this.set.targets.map(async (t) => {
        const { host, port } = split(t);
        const result = await this.opts.probe(host, port, this.opts.intervalMs);
        if (!this.stopped) this.set.observe(t, result, Date.now());
      }),
    );
    if (this.stopped) return;
    if (this.set.decided) this.everDecided = true;
    const live = this.set.live;
    const key = live.join(',');
    if (key !== this.announced) {
      this.announced = key;
      this.log.info({ peers: live }, 'live peers changed');
      this.emit('change', live);
    }
  }

  /** Stops probing. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
