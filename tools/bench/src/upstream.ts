// Benchmark upstream, run as its own child process so it never shares the orchestrator's event
// loop. HTTP: GET /small answers a 99-byte JSON body, GET /big a preallocated 1 MiB body,
// POST /upload drains and counts the request body and answers `bytes=<size>` (text).
// TCP sink (for the raw stream): reads an 8-byte big-endian length N, then exactly N bytes,
// answers an 8-byte ack (the count) and closes.
// Both listen on 127.0.0.1 on ports the OS picks; prints `{"http":P,"tcp":Q}` (one line) on
// stdout once both listen. Exits on SIGTERM/SIGINT, and when stdin closes (the orchestrator went away).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer } from 'node:net';
import { BIG_BYTES, SMALL_BYTES } from './shapes.ts';

/** A JSON document of exactly `size` bytes. */
function jsonOfSize(size: number): Buffer {
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
  } else if (req.method === 'POST' && path === '/upload') {
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
    });
    req.on('end', () => {
      const body = `bytes=${size}`;
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
      res.end(body);
    });
    req.on('error', () => res.destroy());
  } else {
    req.resume();
    res.writeHead(404, { 'content-type': 'text/plain', 'content-length': 10 });
    res.end('not found\n');
  }
});
server.keepAliveTimeout = 60_000;

const sink = createTcpServer((socket) => {
  let header = Buffer.alloc(0);
  let want = -1;
  let got = 0;
  socket.on('data', (chunk: Buffer) => {
    if (want < 0) {
      header = Buffer.concat([header, chunk]);
      if (header.length < 8) return;
      want = Number(header.readBigUInt64BE(0));
      chunk = header.subarray(8);
    }
    got += chunk.length;
    if (got >= want) {
      const ack = Buffer.alloc(8);
      ack.writeBigUInt64BE(BigInt(got));
      socket.end(ack);
    }
  });
  socket.on('error', () => socket.destroy());
});

const stop = (): void => {
  server.close();
  server.closeAllConnections();
  sink.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();

let listening = 0;
const ready = (): void => {
  if (++listening === 2)
    process.stdout.write(
      `${JSON.stringify({ http: (server.address() as AddressInfo).port, tcp: (sink.address() as AddressInfo).port })}\n`,
    );
};
server.listen(0, '127.0.0.1', ready);
sink.listen(0, '127.0.0.1', ready);
