import {
  CounterFamily,
  HistogramFamily,
  LATENCY_BUCKETS,
  OTHER,
  Registry,
  collectDefaultMetrics,
  registerCollectedMetrics,
  type CollectedMetric,
  type CounterCell,
  type FamilyOptions,
  type HistogramCell,
  type HistogramOptions,
} from '@tunnel/observability';
import { wildcardCovers } from '@tunnel/tunnel-protocol';
import type { ClientConn } from '../client-conn.ts';
import type { Router } from '../router.ts';
import { RateWindow } from './rate-window.ts';
import { RecentIds } from './recent-ids.ts';

/** Client label of requests no client took (no route, draining). */
export const NO_CLIENT = '_none';

/** Most client ids remembered after they leave, to count reconnects (count). */
const MAX_REMEMBERED_CLIENTS = 10_000;

/** Span of the per-second request and error rates the status page draws, seconds. */
const RATE_WINDOW_S = 300;

/** Most auth-failure reasons exported as series (count): the reasons are error codes, far fewer. */
const MAX_AUTH_FAILURE_REASONS = 100;

/** `tunnel_http_requests_total`: the counter {@link ExitMetrics.requestDone} updates. */
const REQUESTS: FamilyOptions<'host' | 'client' | 'code_class'> = {
  name: 'tunnel_http_requests_total',
  help: 'Public HTTP requests answered, by host (declared by a connected client, else _other), client and status class.',
  labelNames: ['host', 'client', 'code_class'],
};

/** `tunnel_http_request_duration_seconds`, by phase. */
const DURATION: HistogramOptions<'host' | 'phase'> = {
  name: 'tunnel_http_request_duration_seconds',
  help: 'Public HTTP request duration in seconds, from the request head to the response head (phase=first_byte) and to the end of the response (phase=complete).',
  labelNames: ['host', 'phase'],
  buckets: LATENCY_BUCKETS,
};

/** `tunnel_tcp_connections_total`, by public port. */
const TCP_CONNECTIONS: FamilyOptions<'port'> = {
  name: 'tunnel_tcp_connections_total',
  help: 'Public TCP connections carried, by public port.',
  labelNames: ['port'],
};

/** `tunnel_auth_failures_total`, by error code. */
const AUTH_FAILURES: FamilyOptions<'reason'> = {
  name: 'tunnel_auth_failures_total',
  help: 'Refused edge-client handshakes and admin requests, by error code.',
  labelNames: ['reason'],
  maxSeries: MAX_AUTH_FAILURE_REASONS,
};

/** `tunnel_client_reconnects_total`: one series. */
const RECONNECTS: FamilyOptions<never> = {
  name: 'tunnel_client_reconnects_total',
  help: 'Sessions opened by a client id that had been connected to this server before.',
  labelNames: [],
};

/** `tunnel_client_unresponsive_total`: one series. */
const UNRESPONSIVE: FamilyOptions<never> = {
  name: 'tunnel_client_unresponsive_total',
  help: 'Times a connected edge client turned unresponsive (owed an answer, then left a probe ping unanswered: see --unresponsive-after).',
  labelNames: [],
};

/** The gauges read from the connected clients at scrape time. */
function clientGauges(clients: () => ReadonlySet<ClientConn>, instanceId: string): CollectedMetric[] {
  return [
    {
      name: 'tunnel_clients_connected',
      help: 'Edge clients connected now.',
      type: 'gauge',
      samples: () => [{ labels: {}, value: clients().size }],
    },
    {
      name: 'tunnel_client_sessions',
      help: 'Edge-client sessions held by this exit server instance.',
      type: 'gauge',
      samples: () => [{ labels: { instance: instanceId }, value: clients().size }],
    },
    {
      name: 'tunnel_clients_unresponsive',
      help: 'Connected edge clients unresponsive now: they get requests only when no responsive client serves the host.',
      type: 'gauge',
      samples: () => {
        let n = 0;
        for (const c of clients()) if (c.unresponsive) n++;
        return [{ labels: {}, value: n }];
      },
    },
    {
      name: 'tunnel_streams_in_flight',
      help: 'Tunnel streams open now (public connections and TCP connections being carried).',
      type: 'gauge',
      samples: () => {
        let n = 0;
        for (const c of clients()) n += c.session.activeStreams;
        return [{ labels: {}, value: n }];
      },
    },
    {
      name: 'tunnel_ping_rtt_seconds',
      help: 'Last keep-alive round trip to each connected client, in seconds.',
      type: 'gauge',
      samples: () => {
        // One series per client id: of two sessions with one id, the later one's value.
        const byClient = new Map<string, number>();
        for (const c of clients()) if (c.session.rttMs !== undefined) byClient.set(c.hello.clientId, c.session.rttMs / 1000);
        return [...byClient].map(([client, value]) => ({ labels: { client }, value }));
      },
    },
  ];
}

/** The counters one request updates, resolved once per (host label, client) and kept on its binding. */
export interface RequestSeries {
  /** `tunnel_http_requests_total` by status class: index 0 = 1xx ... 4 = 5xx. */
  readonly byClass: Array<CounterCell | undefined>;
  /** Labels of these series. */
  readonly host: string;
  /** Client label. */
  readonly client: string;
  /** Time to the response head. */
  readonly firstByte: HistogramCell;
  /** Time to the end of the response. */
  readonly complete: HistogramCell;
}

/**
 * The exit server's Prometheus metrics. Label values are bounded: `host` is a hostname a
 * connected client declared (or its `*.` pattern), else `_other`; `client` is a connected
 * client's id (its series go when its last session does); `port` a TCP port this server
 * offers. Request counters are plain cells updated without allocation; gauges are read from
 * the router and the sessions at scrape time.
 */
export class ExitMetrics {
  /** Everything this server exports, Node's process metrics included. */
  readonly registry = new Registry();
  /** Requests and errors per second over the last RATE_WINDOW_S (the status page's graphs). */
  readonly rates = new RateWindow(RATE_WINDOW_S);
  private readonly requests: CounterFamily<'host' | 'client' | 'code_class'>;
  private readonly duration: HistogramFamily<'host' | 'phase'>;
  private readonly tcp: CounterFamily<'port'>;
  private readonly authFailures: CounterFamily<'reason'>;
  private readonly reconnects: CounterCell;
  private readonly unresponsive: CounterCell;
  private readonly seriesCache = new Map<string, RequestSeries>();
  private readonly left = new RecentIds(MAX_REMEMBERED_CLIENTS);
  /** Tunnel bytes of sessions that have closed (open ones are read live). */
  private closedBytesIn = 0;
  private closedBytesOut = 0;

  constructor(
    private readonly router: Router,
    /** This server's instance id (label of `tunnel_client_sessions`). */
    instanceId: string,
    /** Also export Node's process metrics (CPU, memory, event loop lag, GC); once per process. */
    processMetrics = false,
  ) {
    const registry = this.registry;
    if (processMetrics) collectDefaultMetrics({ register: registry });
    this.requests = new CounterFamily(registry, REQUESTS);
    this.duration = new HistogramFamily(registry, DURATION);
    this.tcp = new CounterFamily(registry, TCP_CONNECTIONS);
    this.authFailures = new CounterFamily(registry, AUTH_FAILURES);
    this.reconnects = new CounterFamily(registry, RECONNECTS).series({});
    this.unresponsive = new CounterFamily(registry, UNRESPONSIVE).series({});
    registerCollectedMetrics(registry, [
      ...clientGauges(() => router.clients, instanceId),
      {
        name: 'tunnel_bytes_total',
        help: 'Bytes on the tunnel connections: direction=in from edge clients, out to them (framing included).',
        type: 'counter',
        samples: () => [
          { labels: { direction: 'in' }, value: this.tunnelBytes('in') },
          { labels: { direction: 'out' }, value: this.tunnelBytes('out') },
        ],
      },
    ]);
  }

  /** Tunnel bytes one way, a counter read at scrape time: closed sessions' totals plus the open sessions' own. */
  private tunnelBytes(direction: 'in' | 'out'): number {
    let n = direction === 'in' ? this.closedBytesIn : this.closedBytesOut;
    for (const c of this.router.clients) n += direction === 'in' ? c.session.bytesIn : c.session.bytesOut;
    return n;
  }

  /** Prometheus text of every metric. */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  /** The series for requests to `host` (lower-case) served by `client` (none: no client took it). */
  requestSeries(host: string, client: ClientConn | undefined): RequestSeries {
    const hostLabel = client ? declaredHost(host, client.hello.hostnames) : OTHER;
    const clientLabel = client ? client.hello.clientId : NO_CLIENT;
    const key = `${hostLabel}\u0000${clientLabel}`;
    let s = this.seriesCache.get(key);
    if (!s) {
      s = {
        host: hostLabel,
        client: clientLabel,
        byClass: [undefined, undefined, undefined, undefined, undefined],
        firstByte: this.duration.series({ host: hostLabel, phase: 'first_byte' }),
        complete: this.duration.series({ host: hostLabel, phase: 'complete' }),
      };
      this.seriesCache.set(key, s);
    }
    return s;
  }

  /**
   * Counts one finished request: `status` (0 = none was sent), `firstByteMs`/`completeMs` its
   * durations (firstByteMs < 0 when no response head came). No allocation once its series exist.
   */
  requestDone(s: RequestSeries, status: number, firstByteMs: number, completeMs: number): void {
    const i = status >= 100 && status < 600 ? Math.floor(status / 100) - 1 : 4;
    let cell = s.byClass[i];
    if (!cell) cell = s.byClass[i] = this.requests.series({ host: s.host, client: s.client, code_class: `${i + 1}xx` });
    cell.value++;
    this.rates.count(i === 4);
    if (firstByteMs >= 0) this.duration.observe(s.firstByte, firstByteMs / 1000);
    this.duration.observe(s.complete, completeMs / 1000);
  }

  /** The counter of connections to public TCP port `port`; resolve once per port. */
  tcpConnections(port: number): CounterCell {
    return this.tcp.series({ port: String(port) });
  }

  /** Counts a refused handshake or admin request (`reason`: its TUN_ERR code). */
  authFailure(reason: string): void {
    this.authFailures.series({ reason }).value++;
  }

  /** A client session opened: counts a reconnect when this id was here before. */
  clientConnected(client: ClientConn): void {
    if (this.left.take(client.hello.clientId)) this.reconnects.value++;
  }

  /** A client turned unresponsive. */
  clientUnresponsive(): void {
    this.unresponsive.value++;
  }

  /** A client session closed (and left the router): keeps its byte totals, forgets its series once no session of its id remains. */
  clientDisconnected(client: ClientConn): void {
    this.closedBytesIn += client.session.bytesIn;
    this.closedBytesOut += client.session.bytesOut;
    const id = client.hello.clientId;
    this.left.add(id);
    for (const c of this.router.clients) if (c.hello.clientId === id) return;
    this.requests.drop((l) => l.client === id);
    for (const [key, s] of this.seriesCache) if (s.client === id) this.seriesCache.delete(key);
  }
}

/** `host` when the client declared it, its matching `*.` pattern, else `_other` (bounded: only declared names). */
export function declaredHost(host: string, declared: readonly string[]): string {
  if (declared.includes(host)) return host;
  for (const name of declared) if (wildcardCovers(name, host)) return name;
  return OTHER;
}
