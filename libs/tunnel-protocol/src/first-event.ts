import type { EventEmitter } from 'node:events';
import type { Clock } from './clock.ts';

/**
 * Resolves on the first of `events` that `emitter` emits, or at `deadlineMs` (ms since the
 * epoch, on `clock`), whichever comes first; never rejects. The deadline timer keeps the process
 * alive: a drain waits for its streams.
 */
export function firstEvent(emitter: EventEmitter, events: readonly string[], deadlineMs: number, clock: Clock): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      cancel();
      for (const e of events) emitter.off(e, done);
      resolve();
    };
    const cancel = clock.after(Math.max(0, deadlineMs - clock.now()), done, true);
    for (const e of events) emitter.on(e, done);
  });
}
