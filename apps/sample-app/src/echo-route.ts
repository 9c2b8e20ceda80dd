import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { digestStream, type StreamDigest } from './stream-digest.ts';

/**
 * `ALL /echo`: describes the request back to the caller. The body is never kept: it is hashed and
 * counted while it streams in, so uploads of any size run in constant memory.
 */
export const echoRoute: FastifyPluginAsync = async (app) => {
  // Scoped to this plugin: the built-in JSON and text parsers would buffer (and reject) bodies, and
  // every content type must be treated as opaque bytes here. Fastify applies no bodyLimit to a
  // parser that consumes the raw stream itself, which is what lets 100 MB uploads through.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', async (_request: FastifyRequest, payload: IncomingMessage) => digestStream(payload));

  app.all('/echo', async (request) => {
    // The parser does not run for bodyless methods (GET, HEAD) or empty bodies; draining the raw
    // request covers those too, and yields the empty digest when there is nothing to read.
    const body = (request.body as StreamDigest | undefined) ?? (await digestStream(request.raw));
    const queryStart = request.url.indexOf('?');
    return {
      method: request.method,
      path: queryStart === -1 ? request.url : request.url.slice(0, queryStart),
      query: request.query,
      headers: request.headers,
      bodyBytes: body.bytes,
      bodySha256: body.sha256,
    };
  });
};
