/**
 * Time limits of the exit server's public side (HTTP and TCP), each about one party: the client
 * sending its request head, the client reading a response, the upstream sending one, nobody
 * using a kept stream or TCP connection. Durations in milliseconds; 0 turns a limit off.
 */
export const PUBLIC_TIMEOUT_OPTIONS = {
  /** From the first byte of a request head (blank lines included) to its end, ms. */
  headersTimeout: {
    kind: 'duration',
    min: 100,
    default: 30_000,
    description: 'time a public client has to send a whole request head, from its first byte (blank lines before it count); else 408',
  },
  /** Longest a request body may go without a byte while it is read, ms. */
  bodyTimeout: {
    kind: 'duration',
    default: 30_000,
    description:
      'answer 408 (or cut, once the response has begun) a public request whose body brings no byte for this long; not counted while the upstream holds it back; 0 = never',
  },
  /** A kept-alive connection with nothing in flight releases its tunnel stream after this long, ms. */
  streamIdleTimeout: {
    kind: 'duration',
    default: 5_000,
    description:
      'a kept-alive public connection with no request in flight lets go of its tunnel stream (and the edge client of its upstream connection) after this long; the connection itself stays open (--keep-alive-timeout); 0 = never',
  },
  /** Longest a response may sit unsent because the public client does not read it, ms. */
  sendTimeout: {
    kind: 'duration',
    default: 60_000,
    description:
      'cut a public connection whose client has not taken any response bytes for this long (its socket buffer stays full); 0 = never',
  },
  /** Longest an upstream may go silent mid-response while the client reads, ms. */
  upstreamReadTimeout: {
    kind: 'duration',
    default: 60_000,
    description:
      'cut a response whose upstream sent nothing for this long after its head (long-poll and event-stream upstreams must send within it); 0 = never',
  },
  /** A public TCP connection with no bytes either way for this long is closed, ms. */
  tcpIdleTimeout: {
    kind: 'duration',
    default: 3_600_000,
    description: 'close a public TCP connection (and its tunnel stream) with no bytes either way for this long; 0 = never',
  },
} as const;
