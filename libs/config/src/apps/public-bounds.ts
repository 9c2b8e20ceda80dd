const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * Bounds of the exit server's public side against slow, idle and hostile public clients: memory
 * held per connection before it can be forwarded, and how many replies to the peer may queue.
 * Sizes in bytes, counts plain.
 */
export const PUBLIC_BOUNDS_OPTIONS = {
  /** Most bytes held for a public connection while nothing can be forwarded, bytes. */
  maxHeldBytes: {
    kind: 'bytes',
    min: 1 * KiB,
    max: 64 * MiB,
    default: 256 * KiB,
    description:
      'most bytes a public connection may send while nothing can be forwarded (after an upgrade request until its answer, pipelined behind a busy request); reading stops meanwhile, and more is answered 413 (or cuts the connection when a 413 could be mistaken for another answer)',
  },
  /**
   * Most requests one public connection may have in flight at once (HTTP pipelining), count.
   * Without it a client that pipelines without reading its answers has as many requests in
   * flight as the buffers between it and the upstream hold (about 30,000 small ones measured on
   * loopback), each tracked until answered or cut.
   */
  maxPipelinedRequests: {
    kind: 'int',
    min: 1,
    max: 65_536,
    default: 64,
    description:
      'most requests one public connection may have in flight at once (HTTP pipelining); the next one is not read until those are answered',
  },
  /** Most public connections (HTTP and TCP) open at once, count. */
  maxConnections: {
    kind: 'int',
    min: 0,
    max: 1_000_000,
    default: 10_000,
    description: 'most public connections (HTTP and TCP together) open at once; more are answered 503 (HTTP) or closed (TCP); 0 = no cap',
  },
  /** Most public connections open at once from one source address, count. */
  maxConnectionsPerAddress: {
    kind: 'int',
    min: 0,
    max: 1_000_000,
    default: 256,
    description:
      'most public connections open at once from one source address; more are answered 503 or closed; not applied to HTTP with --trust-proxy (every connection then comes from the proxy); 0 = no cap',
  },
  /**
   * Most tunnel sessions on the control port at once (with handshakes in progress), count. The
   * default fits the 10,000-client goal with 60% headroom: an idle client costs about 20 KiB of
   * exit-server RSS (19.7 KiB measured at 1,000 clients), so 16,000 take about 310 MiB, inside
   * the infra's default 512 MiB task with room left for traffic.
   */
  maxControlConnections: {
    kind: 'int',
    min: 0,
    max: 1_000_000,
    default: 16_000,
    description:
      'most tunnel sessions (with handshakes in progress) on the control port at once; past it a handshake is answered 503 TUN_ERR_SESSION_CAP with Retry-After; health checks, /status and /metrics are not counted (64 more sockets are kept for them, and connections past that are closed at once); about 20 KiB of memory per idle client; 0 = no cap',
  },
  /** Forward request header names containing `_`. */
  allowUnderscoreHeaders: {
    kind: 'boolean',
    default: false,
    description:
      'forward request header names containing "_" (dropped by default: CGI-style apps read X_Forwarded_For as X-Forwarded-For, so such a name could forge a header the tunnel sets)',
  },
} as const;

/** Bounds of a tunnel session against a peer that floods requests for replies (exit server and edge client). */
export const SESSION_BOUNDS_OPTIONS = {
  /** Replies (PING answers, RESETs) queued to a peer that does not read them before its socket is no longer read, count. */
  maxQueuedReplies: {
    kind: 'int',
    min: 1,
    max: 65_536,
    default: 256,
    description:
      'replies (PING answers, RESETs) that may queue to a tunnel peer not reading them, while the write side is over its high-water mark; past it the tunnel socket is not read until the peer catches up',
  },
} as const;
