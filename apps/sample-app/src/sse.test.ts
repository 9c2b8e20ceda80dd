import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';

interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
  /** Milliseconds since the request started when the event was parsed. */
  at: number;
}

/** Reads an SSE body event by event, timestamping each one as it arrives. */
async function* readEvents(body: ReadableStream<Uint8Array> | null, start: number): AsyncGenerator<SseEvent> {
  if (body === null) throw new Error('response has no body');
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const part of body) {
    buffered += decoder.decode(part, { stream: true });
    let end: number;
    while ((end = buffered.indexOf('\n\n')) !== -1) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const event: SseEvent = { at: Date.now() - start };
      for (const line of block.split('\n')) {
        const colon = line.indexOf(':');
        const field = line.slice(0, colon);
        if (field === 'id' || field === 'event' || field === 'data') event[field] = line.slice(colon + 1).trimStart();
      }
      yield event;
    }
  }
}

describe('GET /sse', () => {
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    app = await buildApp({ name: 'ticker' });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(() => app.close());

  it('streams count tick events in order, spaced by interval, then ends', async () => {
    const start = Date.now();
    const res = await fetch(`${base}/sse?count=4&interval=50`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('cache-control')).toBe('no-cache');

    const events: SseEvent[] = [];
    for await (const event of readEvents(res.body, start)) events.push(event);

    expect(events.map(({ id, event, data }) => ({ id, event, data }))).toEqual(
      [1, 2, 3, 4].map((i) => ({ id: String(i), event: 'tick', data: JSON.stringify({ i, instance: 'ticker' }) })),
    );
    // Arrival times jitter under load, so only check that the events were really spread out
    // (three 50 ms gaps) rather than sent in one burst.
    expect(events[3].at - events[0].at).toBeGreaterThanOrEqual(100);
  });

  it('uses 5 events by default', async () => {
    const res = await fetch(`${base}/sse?interval=0`);
    const ids: Array<string | undefined> = [];
    for await (const event of readEvents(res.body, Date.now())) ids.push(event.id);
    expect(ids).toEqual(['1', '2', '3', '4', '5']);
  });

  it('flushes each event as soon as it is produced', async () => {
    const start = Date.now();
    const controller = new AbortController();
    const res = await fetch(`${base}/sse?count=2&interval=10000`, { signal: controller.signal });
    const first = await readEvents(res.body, start).next();
    expect(first.value).toMatchObject({ id: '1' });
    // The second event is 10 s away: the first must not wait for it (or for the end of the stream).
    expect((first.value as SseEvent).at).toBeLessThan(2000);
    controller.abort();
  });

  it('rejects out-of-range parameters with 400', async () => {
    for (const query of ['count=1001', 'count=-1', 'interval=10001', 'count=abc']) {
      const res = await app.inject({ method: 'GET', url: `/sse?${query}` });
      expect(res.statusCode, query).toBe(400);
    }
  });
});
