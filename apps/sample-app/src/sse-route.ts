import type { FastifyPluginAsync } from 'fastify';
import { Readable } from 'node:stream';

/** Options for {@link sseRoute}. */
export interface SseRouteOptions {
  /** Instance name carried in every event. */
  readonly name: string;
}

interface SseQuery {
  count: number;
  interval: number;
}

/**
 * `GET /sse?count=&interval=`: a Server-Sent Events stream of `count` `tick` events, the first
 * immediately and then one every `interval` ms, numbered from 1; the response ends after the last.
 */
export const sseRoute: FastifyPluginAsync<SseRouteOptions> = async (app, { name }) => {
  app.get<{ Querystring: SseQuery }>(
    '/sse',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: {
            count: { type: 'integer', minimum: 0, maximum: 1000, default: 5 },
            interval: { type: 'integer', minimum: 0, maximum: 10_000, default: 100 },
          },
        },
      },
    },
    async (request, reply) => {
      const { count, interval } = request.query;
      reply
        .header('content-type', 'text/event-stream; charset=utf-8')
        .header('cache-control', 'no-cache')
        // Tells nginx-style proxies in front of us not to hold events back.
        .header('x-accel-buffering', 'no');
      return reply.send(ticks(count, interval, name));
    },
  );
};

// Each push becomes one res.write once Fastify pipes the stream, so every event leaves immediately.
function ticks(count: number, intervalMs: number, name: string): Readable {
  let timer: NodeJS.Timeout | undefined;
  let i = 0;
  const stream = new Readable({
    read() {
      // Timer-driven: events are pushed when due, not when the consumer asks.
    },
    destroy(error, callback) {
      // Fastify destroys the stream when the client disconnects; stop ticking.
      clearTimeout(timer);
      callback(error);
    },
  });
  const emit = (): void => {
    i += 1;
    stream.push(`id: ${i}\nevent: tick\ndata: ${JSON.stringify({ i, instance: name })}\n\n`);
    if (i < count) timer = setTimeout(emit, intervalMs);
    else stream.push(null);
  };
  if (count > 0) emit();
  else stream.push(null);
  return stream;
}
