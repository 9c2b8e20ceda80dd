import type { FastifyPluginAsync } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';

/** Longest delay `/slow` accepts, in milliseconds. */
export const MAX_SLOW_MS = 60_000;

interface SlowQuery {
  ms: number;
}

/** `GET|POST /slow?ms=`: answers after a delay, to exercise timeouts along the tunnel (and what is replayed: a POST is not). */
export const slowRoute: FastifyPluginAsync = async (app) => {
  app.route<{ Querystring: SlowQuery }>({
    method: ['GET', 'POST'],
    url: '/slow',
    schema: {
      querystring: {
        type: 'object',
        properties: { ms: { type: 'integer', minimum: 0, maximum: MAX_SLOW_MS, default: 1000 } },
      },
    },
    handler: async (request, reply) => {
      const { ms } = request.query;
      try {
        // request.signal aborts when the client disconnects, so abandoned requests free their timer.
        await sleep(ms, undefined, { signal: request.signal });
      } catch (error) {
        if (!request.signal.aborted) throw error;
        request.log.info({ ms }, 'client went away before /slow answered');
        // Still finish the response: a client that half-closed keeps its socket open until we do, which
        // would hold up server shutdown. 499 ("client closed request") is what the access log should show.
        return reply.code(499).send({ error: 'client closed request' });
      }
      return { sleptMs: ms };
    },
  });
};
