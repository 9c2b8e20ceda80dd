import { describe, expect, it } from 'vitest';
import type { TunnelStream } from '@tunnel/tunnel-protocol';
import type { ClientConn } from './client-conn.ts';
import type { ResponseHead } from './http1/head.ts';
import type { MessageReader } from './http1/reader.ts';
import { Binding } from './public-binding.ts';
import { PublicStreams } from './public-streams.ts';

/** An idle binding on a client of its own (only identity matters to PublicStreams). */
function binding(name: string): Binding {
  const b = new Binding({ name } as unknown as ClientConn, {} as TunnelStream, 'app.test', 0);
  b.responses = { idle: true } as MessageReader<ResponseHead>;
  return b;
}

describe('the streams one public connection holds', () => {
  it('gives up the least recently used idle one, never the active one', () => {
    const streams = new PublicStreams();
    const [a, b, c] = ['a', 'b', 'c'].map(binding);
    streams.add(a);
    streams.add(b);
    streams.add(c);
    expect(streams.leastRecentIdle()).toBe(a);
    streams.use(a);
    expect(streams.active).toBe(a);
    expect(streams.leastRecentIdle()).toBe(b);
    streams.use(b);
    streams.use(c);
    expect(streams.leastRecentIdle()).toBe(a);
    // Not idle: skipped for the next least recent.
    a.pending.push({} as never);
    expect(streams.leastRecentIdle()).toBe(b);
    expect(streams.get(b.client)).toBe(b);
    expect(streams.delete(b)).toBe(true);
    expect(streams.leastRecentIdle()).toBeUndefined();
  });
});
