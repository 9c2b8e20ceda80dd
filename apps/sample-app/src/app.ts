import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { bytesRoute } from './bytes-route.ts';
import { echoRoute } from './echo-route.ts';
import { healthRoute } from './health-route.ts';
import { rootRoute } from './root-route.ts';
import { slowRoute } from './slow-route.ts';
import { sseRoute } from './sse-route.ts';
import { wsRoute } from './ws-route.ts';

/** Options for {@link buildApp}. */
export interface BuildAppOptions {
  /** Instance name reported by `/` and `/sse`, so callers can tell instances apart. */
  readonly name: string;
  /** Logger for the server and its requests; `false` or omitted disables logging. */
  readonly logger?: Logger | false;
}

/**
 * Builds the sample upstream (not yet listening): the demo target behind the tunnel and the
 * fixture the end-to-end tests drive through it.
 */
export async function buildApp(opts: BuildAppOptions): Promise<FastifyInstance> {
  // Widened to Fastify's logger interface so the instance has the plain FastifyInstance type.
  const loggerInstance: FastifyBaseLogger | undefined = opts.logger || undefined;
  const app = loggerInstance ? Fastify({ loggerInstance }) : Fastify({ logger: false });
  await app.register(rootRoute, { name: opts.name });
  await app.register(healthRoute);
  await app.register(echoRoute);
  await app.register(bytesRoute);
  await app.register(sseRoute, { name: opts.name });
  await app.register(wsRoute);
  await app.register(slowRoute);
  return app;
}
