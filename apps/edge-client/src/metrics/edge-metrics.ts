import {
  CounterFamily,
  HistogramFamily,
  LATENCY_BUCKETS,
  Registry,
  collectDefaultMetrics,
  registerCollectedMetrics,
  type CollectedMetric,
  type CounterCell,
  type FamilyOptions,
  type HistogramCell,
  type HistogramOptions,
} from '@tunnel/observability';

/** Kinds of upstream failure, the `kind` label of `tunnel_edge_upstream_errors_total` (bounded). */
export const UPSTREAM_ERROR_KINDS = ['refused', 'timeout', 'unreachable', 'lost', 'no_upstream', 'limit'] as const;

/** One of {@link UPSTREAM_ERROR_KINDS}. */
export type UpstreamErrorKind = (typeof UPSTREAM_ERROR_KINDS)[number];

/** What a socket error code means for an upstream: refused, timeout, or unreachable (anything else). */
export function upstreamErrorKind(code: string | undefined): UpstreamErrorKind {
  if (code === 'ECONNREFUSED') return 'refused';
  if (code === 'ETIMEDOUT') return 'timeout';
  return 'unreachable';
}

/** The series one upstream's requests update, resolved once per upstream. */
export interface UpstreamSeries {
  /** Upstream label (its configured origin). */
  readonly upstream: string;
  /** Requests by status class: index 0 = 1xx ... 4 = 5xx; slot 5 = no response. */
  readonly byClass: Array<CounterCell | undefined>;
  /** Time to connect to the upstream. */
  readonly connect: HistogramCell;
  /** Time from the request head to the upstream's response head. */
  readonly firstByte: HistogramCell;
}

/** The live state the gauges read at scrape time. */
export interface EdgeState {
  /** At least one session serves. */
  readonly connected: boolean;
  /** Sessions open (one per exit server attached), count. */
  readonly sessions: number;
  /** Tunnel streams open, count. */
  readonly streams: number;
}

/** `tunnel_edge_upstream_requests_total`: the counter {@link EdgeMetrics.exchange} updates. */
const REQUESTS: FamilyOptions<'upstream' | 'code_class'> = {
  name: 'tunnel_edge_upstream_requests_total',
  help: 'HTTP requests passed to an upstream, by upstream and status class (none = no response).',
  labelNames: ['upstream', 'code_class'],
};

/** `tunnel_edge_upstream_latency_seconds`, by phase. */
const LATENCY: HistogramOptions<'upstream' | 'phase'> = {
  name: 'tunnel_edge_upstream_latency_seconds',
  help: 'Upstream latency in seconds: phase=connect to open a connection, phase=first_byte from a request head to its response head.',
  labelNames: ['upstream', 'phase'],
  buckets: LATENCY_BUCKETS,
};

/** `tunnel_edge_upstream_errors_total`, by {@link UpstreamErrorKind}. */
const ERRORS: FamilyOptions<'kind'> = {
  name: 'tunnel_edge_upstream_errors_total',
  help: 'Upstream failures, by kind.',
  labelNames: ['kind'],
  maxSeries: 20,
};

/** `tunnel_edge_tcp_connections_total`, by public port. */
const TCP_CONNECTIONS: FamilyOptions<'port'> = {
  name: 'tunnel_edge_tcp_connections_total',
  help: 'TCP connections forwarded, by public port.',
  labelNames: ['port'],
};

/** `tunnel_edge_sessions_total`: one series. */
const SESSIONS: FamilyOptions<never> = {
  name: 'tunnel_edge_sessions_total',
  help: 'Sessions established with an exit server.',
  labelNames: [],
};

/** `tunnel_edge_reconnects_total`: one series. */
const RECONNECTS: FamilyOptions<never> = {
  name: 'tunnel_edge_reconnects_total',
  help: 'Reconnect attempts after a failed dial or a lost session.',
  labelNames: [],
};

/** The gauges read from the client's state at scrape time. */
function stateGauges(state: () => EdgeState): CollectedMetric[] {
  return [
    {
      name: 'tunnel_edge_connected',
      help: '1 while at least one session with an exit server is up, else 0.',
      type: 'gauge',
      samples: () => [{ labels: {}, value: state().connected ? 1 : 0 }],
    },
    {
      name: 'tunnel_edge_sessions_open',
      help: 'Sessions open now, one per exit server this client is attached to.',
      type: 'gauge',
      samples: () => [{ labels: {}, value: state().sessions }],
    },
    {
      name: 'tunnel_edge_streams_in_flight',
      help: 'Tunnel streams open now on this client.',
      type: 'gauge',
      samples: () => [{ labels: {}, value: state().streams }],
    },
  ];
}

/**
 * The edge client's Prometheus metrics: upstream latency, requests and errors by kind, its
 * sessions and reconnects. Labels are bounded by configuration: `upstream` is a configured
 * upstream's origin, `kind` one of {@link UpstreamErrorKind}, `port` a configured TCP forward.
 */
export class EdgeMetrics {
  /** Everything this client exports. */
  readonly registry = new Registry();
  private readonly requests: CounterFamily<'upstream' | 'code_class'>;
  private readonly latency: HistogramFamily<'upstream' | 'phase'>;
  private readonly errors: CounterFamily<'kind'>;
  private readonly tcp: CounterFamily<'port'>;
  private readonly byUpstream = new Map<string, UpstreamSeries>();
  /** Sessions established with an exit server. */
  readonly sessions: CounterCell;
  /** Dial attempts after a failed dial or a lost session. */
  readonly reconnects: CounterCell;

  constructor(
    /** Reads the live state at scrape time: connected, sessions open (one per exit server attached) and streams open. */
    state: () => EdgeState,
    /** Also export Node's process metrics; once per process. */
    processMetrics = false,
  ) {
    const registry = this.registry;
    if (processMetrics) collectDefaultMetrics({ register: registry });
    this.requests = new CounterFamily(registry, REQUESTS);
    this.latency = new HistogramFamily(registry, LATENCY);
    this.errors = new CounterFamily(registry, ERRORS);
    // Every kind from the start, at 0: a rate() over a series that appears only at the first error misses it.
    for (const kind of UPSTREAM_ERROR_KINDS) this.errors.series({ kind });
    this.tcp = new CounterFamily(registry, TCP_CONNECTIONS);
    this.sessions = new CounterFamily(registry, SESSIONS).series({});
    this.reconnects = new CounterFamily(registry, RECONNECTS).series({});
    registerCollectedMetrics(registry, stateGauges(state));
  }

  /** The series of `upstream` (a configured origin); resolve once per stream. */
  upstream(upstream: string): UpstreamSeries {
    let s = this.byUpstream.get(upstream);
    if (!s) {
      s = {
        upstream,
        byClass: [undefined, undefined, undefined, undefined, undefined, undefined],
        connect: this.latency.series({ upstream, phase: 'connect' }),
        firstByte: this.latency.series({ upstream, phase: 'first_byte' }),
      };
      this.byUpstream.set(upstream, s);
    }
    return s;
  }

  /** Counts a connection opened to an upstream in `ms`. */
  connected(s: UpstreamSeries, ms: number): void {
    this.latency.observe(s.connect, ms / 1000);
  }

  /** Counts one exchange: `status` 0 when no response came, `firstByteMs` < 0 then. */
  exchange(s: UpstreamSeries, status: number, firstByteMs: number): void {
    const i = status >= 100 && status < 600 ? Math.floor(status / 100) - 1 : 5;
    let cell = s.byClass[i];
    if (!cell) cell = s.byClass[i] = this.requests.series({ upstream: s.upstream, code_class: i === 5 ? 'none' : `${i + 1}xx` });
    cell.value++;
    if (firstByteMs >= 0) this.latency.observe(s.firstByte, firstByteMs / 1000);
  }

  /** Counts an upstream failure. */
  error(kind: UpstreamErrorKind): void {
    this.errors.series({ kind }).value++;
  }

  /** Counts a TCP connection forwarded for public port `port`. */
  tcpConnection(port: number): void {
    this.tcp.series({ port: String(port) }).value++;
  }
}
