// TCP stream source, run as its own child process: `node tcp-source.js <port> <bytes> [limit-ms]`.
// Connects to 127.0.0.1:<port>, sends an 8-byte big-endian length and then exactly <bytes>
// bytes as fast as the socket takes them (honouring backpressure), waits for the sink's 8-byte
// ack (the count it received) and prints `{"bytes":N,"ms":T,"acked":M}`: T is the wall time
// from connect() to the ack. Exits 1 on error, on a short ack, or after a hard time limit.
import { connect } from 'node:net';

const [port, bytesArg, limitArg] = process.argv.slice(2).map(Number);
const total = bytesArg;
const LIMIT_MS = limitArg || 300_000;
if (!(port > 0) || !(total > 0)) {
  process.stderr.write('usage: tcp-source.js <port> <bytes> [limit-ms]\n');
  process.exit(2);
}
const CHUNK = Buffer.alloc(1024 * 1024, 'tunnel-bench-tcp-stream ');
const limit = setTimeout(() => {
  process.stderr.write(`no ack within ${LIMIT_MS} ms\n`);
  process.exit(1);
}, LIMIT_MS);

const started = process.hrtime.bigint();
const socket = connect({ port, host: '127.0.0.1', noDelay: true });
let sent = 0;
let ack = Buffer.alloc(0);
const pump = (): void => {
  while (sent < total) {
    const n = Math.min(CHUNK.length, total - sent);
    sent += n;
    if (!socket.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
      socket.once('drain', pump);
      return;
    }
  }
};
socket.on('connect', () => {
  const head = Buffer.alloc(8);
  head.writeBigUInt64BE(BigInt(total));
  socket.write(head);
  pump();
});
socket.on('data', (chunk: Buffer) => {
  ack = Buffer.concat([ack, chunk]);
  if (ack.length < 8) return;
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const acked = Number(ack.readBigUInt64BE(0));
  clearTimeout(limit);
  process.stdout.write(`${JSON.stringify({ bytes: total, ms, acked })}\n`);
  socket.destroy();
  process.exit(acked === total ? 0 : 1);
});
socket.on('error', (err) => {
  process.stderr.write(`tcp-source: ${err.message}\n`);
  process.exit(1);
});
socket.on('close', () => {
  if (ack.length < 8) {
    process.stderr.write(`tcp-source: connection closed after ${sent} bytes sent, before the ack\n`);
    process.exit(1);
  }
});
