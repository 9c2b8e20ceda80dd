/** Why a connection was not admitted. */
export type CapRefusal = 'total' | 'address';

/**
 * Caps on open connections, in total and per source address, so one host (or many) opening
 * connections and sending nothing cannot exhaust file descriptors and memory for everyone. One
 * instance is shared by the public HTTP port and the public TCP ports. Each admitted connection
 * is released once, when it closes.
 */
export class ConnectionCaps {
  private total = 0;
  private readonly perAddress = new Map<string, number>();
  /** Connections refused because the total cap was reached. */
  refusedTotal = 0;
  /** Connections refused because their address had its share. */
  refusedAddress = 0;

  /**
   * @param maxTotal Most connections open at once, count; 0 = no cap.
   * @param maxPerAddress Most connections open at once from one address, count; 0 = no cap.
   */
  constructor(
    private readonly maxTotal: number,
    private readonly maxPerAddress: number,
  ) {}

  /** Connections open now. */
  get open(): number {
    return this.total;
  }

  /**
   * Admits a connection from `address` (undefined: unknown, as behind a proxy, so only the total
   * counts) and returns its release function, or says why not.
   */
  admit(address: string | undefined): (() => void) | CapRefusal {
    if (this.maxTotal > 0 && this.total >= this.maxTotal) {
      this.refusedTotal++;
      return 'total';
    }
    const mine = address === undefined ? 0 : (this.perAddress.get(address) ?? 0);
    if (address !== undefined && this.maxPerAddress > 0 && mine >= this.maxPerAddress) {
      this.refusedAddress++;
      return 'address';
    }
    this.total++;
    if (address !== undefined) this.perAddress.set(address, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      if (address === undefined) return;
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left === 0) this.perAddress.delete(address);
      else this.perAddress.set(address, left);
    };
  }
}
