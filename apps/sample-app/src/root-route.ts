import type { FastifyPluginAsync } from 'fastify';

/** Options for {@link rootRoute}. */
export interface RootRouteOptions {
  /** Instance name reported to callers, so load-balanced requests show which instance answered. */
  readonly name: string;
}

/** `GET /`: identifies the instance that served the request. */
export const rootRoute: FastifyPluginAsync<RootRouteOptions> = async (app, { name }) => {
  app.get('/', async () => ({ instance: name, pid: process.pid, time: new Date().toISOString() }));
};
