// Readiness waits: poll a check until it holds, failing fast when a process we wait on exits.
/** What {@link until} needs of a process it watches. */
export interface Watched {
  /** Name for messages. */
  readonly name: string;
  /** True once the process has exited. */
  hasExited(): boolean;
  /** Its stderr tail for an error message. */
  stderrTail(): string;
}

/**
 * Polls `check` every `intervalMs` (default 100) until it returns true; fails fast if a process
 * exits, and with the last error once `deadline` (epoch ms) has passed.
 */
export async function until(
  deadline: number,
  procs: readonly Watched[],
  check: () => boolean | Promise<boolean>,
  what: string,
  intervalMs = 100,
): Promise<void> {
  let lastError = '';
  for (;;) {
    const dead = procs.find((p) => p.hasExited());
    if (dead) throw new Error(`${dead.name} exited while waiting for ${what} ${dead.stderrTail()}`);
    try {
      if (await check()) return;
    } catch (err) {
      lastError = ` (last error: ${(err as Error).message})`;
    }
    if (Date.now() > deadline) {
      const tails = procs.map((p) => p.stderrTail()).join('');
      throw new Error(`not ready in time: ${what}${lastError}${tails}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The first line of an error's message (for one-line failure lists). */
export function firstLine(err: unknown): string {
  return (err as Error).message.split('\n')[0];
}
