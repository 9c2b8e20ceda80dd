import websocket from '@fastify/websocket';
import type { FastifyPluginAsync } from 'fastify';

/** `GET /ws`: WebSocket echo. Text and binary messages come back unchanged; nothing is sent first. */
export const wsRoute: FastifyPluginAsync = async (app) => {
  await app.register(websocket);
  app.route({
    method: 'GET',
    url: '/ws',
    // Plain HTTP requests get a clear answer instead of @fastify/websocket's default 404.
    handler: async (_request, reply) =>
      reply.code(426).header('upgrade', 'websocket').send({ error: 'this endpoint speaks WebSocket only' }),
    wsHandler: (socket) => {
      socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
    },
  });
};
