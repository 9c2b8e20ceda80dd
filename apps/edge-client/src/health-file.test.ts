import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EdgeClientState } from './edge-client.ts';
import { trackHealthFile, type StateSource } from './health-file.ts';

/** A client stand-in whose state the test sets. */
function fakeClient(initial: EdgeClientState): StateSource & { set(state: EdgeClientState): void } {
  const fns = new Set<(s: unknown) => void>();
  const c = {
    state: initial,
    on: (_event: 'state', fn: (s: unknown) => void) => {
      fns.add(fn);
      return () => fns.delete(fn);
    },
    set(state: EdgeClientState) {
      c.state = state;
      for (const fn of fns) fn(state);
    },
  };
  return c;
}

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'health-file-'));
  dirs.push(dir);
  return join(dir, 'healthy');
}

describe('trackHealthFile', () => {
  it('exists exactly while the client is connected', () => {
    const path = tempPath();
    const client = fakeClient('connecting');
    trackHealthFile(client, path, () => new Date(Date.UTC(2026, 0, 2, 3, 4, 5)));
    expect(existsSync(path)).toBe(false);
    client.set('connected');
    expect(readFileSync(path, 'utf8')).toBe('connected since 2026-01-02T03:04:05.000Z\n');
    for (const state of ['waiting', 'connected', 'draining', 'stopped'] as const) {
      client.set(state);
      expect(existsSync(path), state).toBe(state === 'connected');
    }
  });

  it('removes a stale file from an earlier run at once, and stops when unsubscribed', () => {
    const path = tempPath();
    writeFileSync(path, 'stale');
    const client = fakeClient('connecting');
    const stop = trackHealthFile(client, path);
    expect(existsSync(path)).toBe(false);
    stop();
    client.set('connected');
    expect(existsSync(path)).toBe(false);
  });

  it('does not throw when the file cannot be written (the health check then reports unhealthy)', () => {
    const client = fakeClient('connecting');
    trackHealthFile(client, join(tempPath(), 'no', 'such', 'dir'));
    expect(() => client.set('connected')).not.toThrow();
  });
});
