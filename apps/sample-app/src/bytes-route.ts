import type { FastifyPluginAsync } from 'fastify';
import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { PSEUDO_RANDOM_CHUNK_SIZE, pseudoRandomBytes } from './pseudo-random-bytes.ts';
import { pseudoRandomSha256 } from './pseudo-random-digest.ts';

/** Largest body `/bytes/:n` serves: 10 GiB. */
export const MAX_BYTES = 10 * 1024 ** 3;

/**
 * Largest body for which `/bytes/:n` precomputes the `x-sha256` response header. Above it the
 * extra generation pass would delay the first byte noticeably; clients ask for the trailer instead.
 */
export const MAX_BYTES_WITH_SHA_HEADER = 64 * 1024 ** 2;

// Numbers travel as strings matched by a strict pattern: Ajv's type coercion would otherwise turn
// "1e3", "0x10" or " " into valid sizes.
interface BytesParams {
  n: string;
}

interface BytesQuery {
  seed: string;
  trailer: '0' | '1';
}

/**
 * `GET /bytes/:n?seed=&trailer=`: streams `pseudoRandomBytes(seed, n)`.
 *
 * Without `trailer=1` the response has a `content-length` and, for n up to
 * {@link MAX_BYTES_WITH_SHA_HEADER}, an `x-sha256` header. With `trailer=1` it is chunked and
 * the SHA-256 of what was actually sent arrives as the `x-sha256` trailer.
 */
export const bytesRoute: FastifyPluginAsync = async (app) => {
  app.get<{ Params: BytesParams; Querystring: BytesQuery }>(
    '/bytes/:n',
    {
      schema: {
        params: {
          type: 'object',
          properties: { n: { type: 'string', pattern: '^[0-9]{1,11}$' } },
          required: ['n'],
        },
        querystring: {
          type: 'object',
          properties: {
            // 15 digits always fit a safe integer.
            seed: { type: 'string', pattern: '^[0-9]{1,15}$', default: '1' },
            trailer: { type: 'string', enum: ['0', '1'], default: '0' },
          },
        },
      },
    },
    async (request, reply) => {
      const n = Number(request.params.n);
      if (n > MAX_BYTES) {
        return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: `params/n must be <= ${MAX_BYTES}` });
      }
      const seed = Number(request.query.seed);
      reply.header('content-type', 'application/octet-stream');
      const chunks = pseudoRandomBytes(seed, n);

      if (request.query.trailer === '1') {
        const hash = createHash('sha256');
        reply.trailer('x-sha256', async () => hash.digest('hex'));
        return reply.send(streamOf(hashing(chunks, hash)));
      }

      reply.header('content-length', n);
      if (n <= MAX_BYTES_WITH_SHA_HEADER) reply.header('x-sha256', await pseudoRandomSha256(seed, n));
      return reply.send(streamOf(chunks));
    },
  );
};

function* hashing(chunks: Iterable<Buffer>, hash: Hash): Generator<Buffer> {
  for (const chunk of chunks) {
    hash.update(chunk);
    yield chunk;
  }
}

// A pull-based stream: the generator only advances when the socket drains, so a slow client never
// makes the server buffer more than one high-water mark of the body.
function streamOf(chunks: Iterable<Buffer>): Readable {
  return Readable.from(chunks, { objectMode: false, highWaterMark: PSEUDO_RANDOM_CHUNK_SIZE });
}
