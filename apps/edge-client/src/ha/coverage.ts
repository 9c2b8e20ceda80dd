/** What to do with a session that just opened to an instance. */
export type AttachDecision =
  /** A new instance, and a session is still wanted: serve on it. */
  | 'keep'
  /** The client already holds a session to this instance: close the new one at once. */
  | 'duplicate'
  /** Enough sessions already (`--ha-connections N`): close the new one. */
  | 'surplus';

/** Most ids remembered as drained (a drained instance never comes back: a restart has a new id). */
const MAX_DRAINED = 256;

/**
 * Which exit-server instances the edge client should hold a session to, and whether it does.
 * Pure (no I/O), so the attach-until-covered rules are unit-tested:
 * - wanted = every instance a held session names (itself and the peers it advertises), minus
 *   the ones known to be draining; the target is min(cap, |wanted|), at least 1;
 * - a session to an instance already held is a duplicate; past the target it is surplus;
 * - the client keeps dialing (through the load balancer) while it holds fewer than the target.
 */
export class Coverage {
  /** Held sessions: instance id -> the peers that session advertised. */
  private readonly held = new Map<string, readonly string[]>();
  private readonly drained = new Set<string>();

  constructor(
    /** Most sessions to hold (`--ha-connections`). */
    private readonly cap: number,
  ) {}

  /** Instances held and serving. */
  get attached(): string[] {
    return [...this.held.keys()].sort();
  }

  /** Instances the client should be attached to. */
  get wanted(): string[] {
    const ids = new Set<string>();
    for (const [id, peers] of this.held) {
      ids.add(id);
      for (const p of peers) ids.add(p);
    }
    for (const d of this.drained) ids.delete(d);
    return [...ids].sort();
  }

  /** How many sessions to hold. */
  get target(): number {
    return Math.max(1, Math.min(this.cap, this.wanted.length));
  }

  /** True when no more sessions are needed. */
  get covered(): boolean {
    return this.held.size >= this.target;
  }

  /** A session opened to `instanceId`, whose welcome advertised `peers`. Records it when kept. */
  opened(instanceId: string, peers: readonly string[]): AttachDecision {
    if (this.held.has(instanceId)) return 'duplicate';
    if (this.held.size >= this.cap || (this.held.size > 0 && this.covered && !this.wanted.includes(instanceId))) return 'surplus';
    this.held.set(instanceId, peers);
    return 'keep';
  }

  /**
   * A held session's server advertised a new peer set. Returns the ids that became wanted and
   * were not before (the caller dials again soon for those).
   */
  advertised(instanceId: string, peers: readonly string[]): string[] {
    if (!this.held.has(instanceId)) return [];
    const before = new Set(this.wanted);
    this.held.set(instanceId, peers);
    return this.wanted.filter((id) => !before.has(id));
  }

  /** The instance said GOAWAY: it stops counting, and is not wanted again. */
  draining(instanceId: string): void {
    this.held.delete(instanceId);
    this.drained.add(instanceId);
    if (this.drained.size > MAX_DRAINED) this.drained.delete(this.drained.values().next().value as string);
  }

  /** The session to `instanceId` closed (the instance may still be alive: it stays wanted while advertised). */
  lost(instanceId: string): void {
    this.held.delete(instanceId);
  }
}
