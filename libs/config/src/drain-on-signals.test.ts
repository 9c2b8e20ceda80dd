import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { drainOnSignals } from './drain-on-signals.ts';

function harness(drain: () => Promise<unknown>) {
  const signals = new EventEmitter();
  const lines: string[] = [];
  const exits: number[] = [];
  let exited!: () => void;
  const firstExit = new Promise<void>((r) => (exited = r));
  const log = {
    info: (_f: object, m: string) => lines.push(m),
    warn: (_f: object, m: string) => lines.push(m),
    error: (_f: object, m: string) => lines.push(m),
  };
  drainOnSignals({ drain, log, signals, exit: (code) => (exits.push(code), exited()) });
  return { signals, lines, exits, firstExit };
}

describe('drainOnSignals', () => {
  it('drains on SIGTERM and exits 0 once the drain is done', async () => {
    const h = harness(() => Promise.resolve());
    h.signals.emit('SIGTERM', 'SIGTERM');
    await h.firstExit;
    expect(h.lines).toEqual(['draining']);
    expect(h.exits).toEqual([0]);
  });

  it('exits 1 at once on a second signal while draining', () => {
    const h = harness(() => new Promise(() => {}));
    h.signals.emit('SIGINT', 'SIGINT');
    h.signals.emit('SIGTERM', 'SIGTERM');
    expect(h.lines).toEqual(['draining', 'second signal: exiting without waiting']);
    expect(h.exits).toEqual([1]);
  });

  it('exits 1 when the drain fails', async () => {
    const h = harness(() => Promise.reject(new Error('stuck')));
    h.signals.emit('SIGTERM', 'SIGTERM');
    await h.firstExit;
    expect(h.lines).toEqual(['draining', 'error while draining']);
    expect(h.exits).toEqual([1]);
  });
});
