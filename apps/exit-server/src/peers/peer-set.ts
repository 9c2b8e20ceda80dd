/** What one /healthz probe of a peer found. */
export type ProbeResult =
  /** 200 with an instance id: the peer is live. `clients` is how many distinct clients it holds. */
  | { readonly kind: 'live'; readonly instanceId: string; readonly clients: number }
  /** It answered, but not 200 (draining, shutting down): it leaves the set at once. */
  | { readonly kind: 'draining' }
  /** No answer (refused, timed out, garbage): it leaves once silent for `timeoutMs` (a new target: since it was listed). */
  | { readonly kind: 'silent' };

/**
 * State of one probed address; `self`: it answered with this server's own id (its own address);
 * `unknown`: listed, not answered yet and silent for less than the timeout.
 */
export type PeerState = 'unknown' | 'live' | 'self' | 'draining' | 'gone';

/** One probed address and what is known of it (for /status). */
export interface PeerEntry {
  /** `host:port` of the peer's control port. */
  readonly target: string;
  /** Current state. */
  readonly state: PeerState;
  /** Instance id of its last good answer. */
  readonly instanceId: string | undefined;
  /** Distinct clients it held at its last good answer. */
  readonly clients: number;
  /** When it last answered 200, ms since epoch (0: never). */
  readonly lastLiveAt: number;
}

/**
 * The set of live peer exit servers, kept from probe results. Pure (no I/O, time passed in), so
 * every rule is unit-tested: a target answering 200 with an id is live; one answering anything
 * else is draining and out at once; one that stops answering is out once silent for
 * `timeoutMs`; this server's own id (its address is in the DNS answer too) is never a peer.
 * A new target that does not answer stays unknown for `timeoutMs` too: one probe that timed out
 * (a slow peer on a loaded host) must not count as "no peer here" (see {@link PeerSet.decided}).
 */
export class PeerSet {
  private readonly entries = new Map<string, PeerEntry>();
  /** When each target was first listed, ms since epoch. */
  private readonly listedAt = new Map<string, number>();

  constructor(
    /** This server's own instance id. */
    private readonly selfId: string,
    /** Silence after which a peer leaves the set, ms. */
    private readonly timeoutMs: number,
  ) {}

  /** Replaces the probed addresses at time `now` (ms): new ones start unknown, missing ones are forgotten. */
  setTargets(targets: Iterable<string>, now: number): void {
    const keep = new Set(targets);
    for (const t of this.entries.keys())
      if (!keep.has(t)) {
        this.entries.delete(t);
        this.listedAt.delete(t);
      }
    for (const t of keep)
      if (!this.entries.has(t)) {
        this.entries.set(t, { target: t, state: 'unknown', instanceId: undefined, clients: 0, lastLiveAt: 0 });
        this.listedAt.set(t, now);
      }
  }

  /** The addresses to probe. */
  get targets(): string[] {
    return [...this.entries.keys()];
  }

  /** Records a probe's result at time `now` (ms). Results for forgotten targets are ignored. */
  observe(target: string, result: ProbeResult, now: number): void {
    const e = this.entries.get(target);
    if (!e) return;
    if (result.kind === 'live') {
      const state = result.instanceId === this.selfId ? 'self' : 'live';
      this.entries.set(target, { target, state, instanceId: result.instanceId, clients: result.clients, lastLiveAt: now });
    } else if (result.kind === 'draining') {
      this.entries.set(target, { ...e, state: 'draining' });
    } else if (e.state === 'live' && now - e.lastLiveAt >= this.timeoutMs) {
      this.entries.set(target, { ...e, state: 'gone' });
    } else if (e.state === 'draining' || (e.state === 'unknown' && now - (this.listedAt.get(target) ?? now) >= this.timeoutMs)) {
      this.entries.set(target, { ...e, state: 'gone' });
    }
  }

  /** True when no target is unknown: each answered, or stayed silent for the timeout. */
  get decided(): boolean {
    for (const e of this.entries.values()) if (e.state === 'unknown') return false;
    return true;
  }

  /** Live peers' instance ids, sorted, without this server's own. */
  get live(): string[] {
    const ids = new Set<string>();
    for (const e of this.entries.values()) if (e.state === 'live' && e.instanceId) ids.add(e.instanceId);
    return [...ids].sort();
  }

  /** Most distinct clients any live peer holds (0 without peers). */
  get maxPeerClients(): number {
    let max = 0;
    for (const e of this.entries.values()) if (e.state === 'live') max = Math.max(max, e.clients);
    return max;
  }

  /** Every probed address, for /status. */
  snapshot(): PeerEntry[] {
    return [...this.entries.values()];
  }
}
