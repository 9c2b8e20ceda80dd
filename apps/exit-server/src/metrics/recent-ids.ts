/**
 * A bounded set of ids in insertion order: past `max`, the oldest is forgotten. Remembers
 * which clients left, so a reconnect can be counted without growing forever.
 */
export class RecentIds {
  private readonly ids = new Set<string>();

  constructor(
    /** Most ids kept (count). */
    private readonly max: number,
  ) {}

  /** Remembers `id` (as the newest). */
  add(id: string): void {
    this.ids.delete(id);
    this.ids.add(id);
    if (this.ids.size > this.max) this.ids.delete(this.ids.values().next().value as string);
  }

  /** True (and forgets it) when `id` was remembered. */
  take(id: string): boolean {
    return this.ids.delete(id);
  }
}
