import type { FastifyPluginAsync } from 'fastify';

/** `GET /healthz`: liveness probe. */
export const healthRoute: FastifyPluginAsync = async (app) => {
  app.get('/healthz', async () => ({ status: 'ok' }));
};
