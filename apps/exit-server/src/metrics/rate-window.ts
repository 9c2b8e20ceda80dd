/** One point of {@link RateWindow.points}: a second's requests and errors. */
export interface RatePoint {
  /** Start of the second, Unix ms. */
  readonly t: number;
  /** Requests finished in that second. */
  readonly requests: number;
  /** Of those, answered 5xx (or not answered). */
  readonly errors: number;
}

/**
 * Requests and errors per second over the last `seconds` seconds, in a fixed ring: a counter
 * increment per request, no allocation. Feeds the status page's rate graphs.
 */
export class RateWindow {
  private readonly requests: Uint32Array;
  private readonly errors: Uint32Array;
  private readonly stamps: Float64Array;

  constructor(
    /** Seconds kept (count). */
    readonly seconds: number,
    private readonly now: () => number = Date.now,
  ) {
    this.requests = new Uint32Array(seconds);
    this.errors = new Uint32Array(seconds);
    this.stamps = new Float64Array(seconds).fill(-1);
  }

  /** Counts one finished request; `error` when it was answered 5xx or not at all. */
  count(error: boolean): void {
    const second = Math.floor(this.now() / 1000);
    const i = second % this.seconds;
    if (this.stamps[i] !== second) {
      this.stamps[i] = second;
      this.requests[i] = 0;
      this.errors[i] = 0;
    }
    this.requests[i]++;
    if (error) this.errors[i]++;
  }

  /** The last `seconds` whole seconds, oldest first (zeros where nothing happened), the current one excluded. */
  points(): RatePoint[] {
    const current = Math.floor(this.now() / 1000);
    const out: RatePoint[] = [];
    for (let s = current - this.seconds + 1; s < current; s++) {
      const i = s % this.seconds;
      const fresh = this.stamps[i] === s;
      out.push({ t: s * 1000, requests: fresh ? this.requests[i] : 0, errors: fresh ? this.errors[i] : 0 });
    }
    return out;
  }
}
