import { rmSync, writeFileSync } from 'node:fs';
import type { EdgeClientState } from './edge-client.ts';

/** What {@link trackHealthFile} needs of the client: its state changes. */
export interface StateSource {
  /** Current state. */
  readonly state: EdgeClientState;
  /** Subscribes to an event; returns the unsubscribe function. */
  on(event: 'state', fn: (state: unknown) => void): () => void;
}

/**
 * Keeps `path` in step with the client for container health checks (`test -f path`): the file
 * exists, holding the time it connected, exactly while the client is `connected` to at least one
 * exit server; a stale file from an earlier run is removed at once. The edge client serves no
 * port of its own, so a file is the one thing a health check command can look at. Write errors
 * are left to the health check to notice (a missing file reads as unhealthy), not thrown.
 */
export function trackHealthFile(client: StateSource, path: string, now: () => Date = () => new Date()): () => void {
  const apply = (state: unknown) => {
    try {
      if (state === 'connected') writeFileSync(path, `connected since ${now().toISOString()}\n`);
      else rmSync(path, { force: true });
    } catch {
      // Reported by the health check itself: an absent file is unhealthy.
    }
  };
  apply(client.state);
  return client.on('state', apply);
}
