#!/usr/bin/env node
// Benchmark upstream, run as its own child process so it never shares the orchestrator's event
// loop. GET /small answers a 99-byte JSON body, GET /big a preallocated 1 MiB body. Listens on
// 127.0.0.1 on a port the OS picks and prints that port (one line) on stdout once listening.
// Exits on SIGTERM/SIGINT, and when stdin closes (the orchestrator went away).
import { createServer } from 'node:http';
import { BIG_BYTES, SMALL_BYTES } from './shapes.mjs';

/** A JSON document of exactly `size` bytes. */
function jsonOfSize(size) {
  const base = { ok: true, service: 'bench-upstream', pad: '' };
  base.pad = 'x'.repeat(size - Buffer.byteLength(JSON.stringify(base)));
  const body = Buffer.from(JSON.stringify(base));
  if (body.length !== size) throw new Error(`small body is ${body.length} bytes, expected ${size}`);
  return body;
}

const small = jsonOfSize(SMALL_BYTES);
const big = Buffer.alloc(BIG_BYTES, 'abcdefghijklmnopqrstuvwxyz0123456789');

const server = createServer((req, res) => {
  const path = req.url?.split('?')[0];
  if (req.method === 'GET' && path === '/small') {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': small.length });
    res.end(small);
  } else if (req.method === 'GET' && path === '/big') {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': big.length });
    res.end(big);
  } else {
    res.writeHead(404, { 'content-type': 'text/plain', 'content-length': 10 });
    res.end('not found\n');
  }
});
server.keepAliveTimeout = 60_000;

const stop = () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});
