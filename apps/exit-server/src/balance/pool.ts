/** How a pool chooses among its available members for each request (or connection). */
export type BalancePolicy = 'round-robin' | 'least-inflight';

/** What a pool needs to know about a member. */
export interface Balanced {
  /** False while the member drains: it gets nothing new. */
  readonly available: boolean;
  /** Relative share, a positive integer (1 = an ordinary member). */
  readonly weight: number;
  /** Requests it is serving now. */
  readonly inFlight: number;
  /** True while it answers nothing (it may have vanished): picked only when no other available member is. */
  readonly unresponsive?: boolean;
}

/** May `m` be picked: available, and responsive unless `lax` (no responsive member is available). */
function eligible(m: Balanced, lax: boolean): boolean {
  return m.available && (lax || m.unresponsive !== true);
}

/**
 * The members serving one route (a hostname, a wildcard, the default upstreams or a TCP port)
 * and the state of its policy. Pure: no I/O, no clocks.
 *
 * - `round-robin` is smooth weighted round-robin (as nginx does it): each pick adds every
 *   available member's weight to its running score, takes the highest score and takes the total
 *   off the winner. Weights 2:1 give a, b, a, a, b, a...: exact shares over every cycle of
 *   sum-of-weights picks, interleaved rather than in bursts. Equal weights alternate exactly.
 * - `least-inflight` takes the member with the fewest requests in flight per unit of weight;
 *   ties (the idle case) are broken by the same smooth round-robin among the tied members, so an
 *   idle pool still alternates and honours weights.
 *
 * {@link pickInTurn} groups the round-robin picks of one event-loop turn (see there).
 *
 * An unresponsive member is skipped while another available member is responsive; when none is,
 * the unresponsive ones are picked as before (a request then waits on them rather than failing
 * at once: they may only be slow, and nothing else serves the route).
 */
export class Pool<M extends Balanced> {
  /** Members in the order they joined. */
  readonly members: M[] = [];
  /** Smooth round-robin scores, parallel to `members`. */
  private readonly scores: number[] = [];
  /** Membership, for {@link has} in constant time (a default pool may hold thousands). */
  private readonly set = new Set<M>();
  /** The turn {@link pickInTurn} last picked in, and its pick's index in `members` (-1: none). */
  private turn = -1;
  private turnPick = -1;

  constructor(
    /** The policy of this route. */
    readonly policy: BalancePolicy = 'round-robin',
  ) {}

  /** Adds a member (it starts with a zero score, like every member after a full cycle). */
  add(member: M): void {
    this.members.push(member);
    this.scores.push(0);
    this.set.add(member);
  }

  /** Removes a member; false if it was not one. */
  remove(member: M): boolean {
    const i = this.members.indexOf(member);
    if (i < 0) return false;
    this.members.splice(i, 1);
    this.scores.splice(i, 1);
    this.set.delete(member);
    // Indices moved: the turn's pick is picked afresh.
    this.turnPick = -1;
    return true;
  }

  /** True if some member may take new work. */
  get hasAvailable(): boolean {
    for (const m of this.members) if (m.available) return true;
    return false;
  }

  /** True if `member` belongs to this pool. */
  has(member: M): boolean {
    return this.set.has(member);
  }

  /** Picks the member for the next request, or undefined when none is available. */
  pick(): M | undefined {
    if (this.policy === 'round-robin') return this.smooth(undefined);
    return this.leastLoaded(false) ?? this.leastLoaded(true);
  }

  /** least-inflight among the members {@link eligible} with `lax`. */
  private leastLoaded(lax: boolean): M | undefined {
    // The least loaded per unit of weight: a.inFlight / a.weight < b.inFlight / b.weight, cross-multiplied.
    let least: M | undefined;
    for (const m of this.members) {
      if (eligible(m, lax) && (least === undefined || m.inFlight * least.weight < least.inFlight * m.weight)) least = m;
    }
    if (least === undefined) return undefined;
    const min = least;
    return this.smooth((m) => eligible(m, lax) && m.inFlight * min.weight === min.inFlight * m.weight);
  }

  /**
   * Picks the member for a request read in event-loop turn `turn` (any number that changes from
   * one turn to the next). Round-robin makes the turn's first pick as {@link pick} does, and the
   * turn's later requests go to the same member, each still charged to it as a pick (its score
   * drops by the total weight, the others' rise by theirs). Requests read in one turn arrived
   * together, so grouping them keeps them in one write on one tunnel session and one wake-up of
   * one edge client (split between clients they cost a write and a wake-up on each, which made
   * per-request balancing dearer than per-connection); and since the scores count requests, not
   * turns, the next turns go to the members owed the most: shares stay exact to within about one
   * turn's requests, and a turn of one request (a lone connection) alternates exactly as pick
   * does. `least-inflight` picks per request ({@link pick}): it reads the in-flight counts each
   * request raises, and grouping would herd a burst onto one member.
   *
   * No connection affinity, on purpose: sending a connection's request to the client it already
   * holds an idle stream on, while that client stays at most k requests ahead of its share (and a
   * lone connection still alternating), cut moves between a connection's streams from ~51% of
   * requests to ~24% (k = 4) or ~3% (k = 32), but did not lower tunnel CPU per request against
   * per-connection balancing on the balance-cost bench (medians of per-rep ratios, same runs:
   * 1.07 / 1.11 against 1.10 without it; 1.21 / 1.19 against 1.12), and every connection still
   * held a stream on each client (figures and the command: this file's git log).
   */
  pickInTurn(turn: number): M | undefined {
    if (this.policy !== 'round-robin') return this.pick();
    const held = this.turnPick >= 0 ? this.members[this.turnPick] : undefined;
    if (turn === this.turn && held !== undefined && eligible(held, false)) {
      this.charge(this.turnPick);
      return held;
    }
    this.turn = turn;
    this.turnPick = this.smoothIndex(undefined);
    return this.turnPick >= 0 ? this.members[this.turnPick] : undefined;
  }

  /** Scores a pick of member `i` (a responsive one), as {@link smooth} does for the member it picks. */
  private charge(i: number): void {
    let total = 0;
    for (let j = 0; j < this.members.length; j++) {
      const m = this.members[j];
      if (!eligible(m, false)) continue;
      this.scores[j] += m.weight;
      total += m.weight;
    }
    this.scores[i] -= total;
  }

  /** Smooth weighted round-robin among the available members that pass `among`. */
  private smooth(among: ((m: M) => boolean) | undefined): M | undefined {
    const i = this.smoothIndex(among);
    return i >= 0 ? this.members[i] : undefined;
  }

  /** {@link smooth}, as an index in `members` (-1: none available): responsive members first. */
  private smoothIndex(among: ((m: M) => boolean) | undefined): number {
    const i = this.smoothIndexOf(among, false);
    return i >= 0 ? i : this.smoothIndexOf(among, true);
  }

  /** {@link smoothIndex} among the members {@link eligible} with `lax`. */
  private smoothIndexOf(among: ((m: M) => boolean) | undefined, lax: boolean): number {
    let total = 0;
    let best = -1;
    for (let i = 0; i < this.members.length; i++) {
      const m = this.members[i];
      if (!eligible(m, lax) || (among !== undefined && !among(m))) continue;
      this.scores[i] += m.weight;
      total += m.weight;
      if (best < 0 || this.scores[i] > this.scores[best]) best = i;
    }
    if (best >= 0) this.scores[best] -= total;
    return best;
  }
}
