/** A client as /status lists it (the fields the table uses). */
export interface StatusClient {
  readonly id: string;
  readonly sessionId: string;
  readonly remoteAddress: string;
  readonly hostnames: readonly string[];
  readonly tcpPorts: readonly number[];
  readonly connectedSince: string;
  readonly inFlight: number;
  readonly requestsServed: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly lastRttMs: number | null;
  readonly draining?: boolean;
  /** Routing state (servers before it sent only `draining`). */
  readonly state?: 'active' | 'unresponsive' | 'draining';
}

/** A peer exit server as /status lists it. */
export interface StatusPeer {
  readonly target: string;
  readonly state: string;
  readonly instanceId?: string;
  readonly clients: number;
}

/** The parts of /status the command reads. */
export interface StatusDoc {
  readonly instanceId: string;
  readonly clients: readonly StatusClient[];
  readonly peers?: readonly StatusPeer[];
  readonly publicRequestsInFlight?: number;
  readonly publicConnections?: number;
}

/** /status with each client's request rate added (null when it was not sampled twice). */
export interface StatusWithRates extends StatusDoc {
  readonly clients: ReadonlyArray<StatusClient & { readonly requestsPerSecond: number | null }>;
}

/** Adds req/s per client session from two /status reads `elapsedMs` apart (`before` absent: no rates). */
export function withRates(after: StatusDoc, before: StatusDoc | undefined, elapsedMs: number): StatusWithRates {
  const earlier = new Map((before?.clients ?? []).map((c) => [c.sessionId, c.requestsServed]));
  return {
    ...after,
    clients: after.clients.map((c) => {
      const then = earlier.get(c.sessionId);
      const rate = then === undefined || elapsedMs <= 0 ? null : Math.max(0, ((c.requestsServed - then) * 1000) / elapsedMs);
      return { ...c, requestsPerSecond: rate };
    }),
  };
}

/** `93784000` ms -> `1d2h3m`, `65000` -> `1m5s`. */
export function formatUptime(ms: number): string {
  let s = Math.max(0, Math.floor(ms / 1000));
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (s >= size || parts.length > 0) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  if (parts.length < 2) parts.push(`${s}s`);
  return parts.slice(0, 2).join('');
}

/** `1536` -> `1.5KiB`. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v}B` : `${v.toFixed(1)}${units[i]}`;
}

function table(header: readonly string[], rows: readonly string[][], right: ReadonlySet<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** The human-readable report: the server, a table of clients, and the peer servers. */
export function renderStatus(s: StatusWithRates, now: number): string {
  const out: string[] = [];
  out.push(
    `exit server ${s.instanceId}: ${s.clients.length} client session(s), ${s.publicConnections ?? 0} public connection(s), ${s.publicRequestsInFlight ?? 0} request(s) in flight`,
  );
  out.push('');
  if (s.clients.length === 0) {
    out.push('no client is connected');
  } else {
    const rows = s.clients.map((c) => [
      c.id + (c.state === 'unresponsive' ? ' (unresponsive)' : c.draining ? ' (draining)' : ''),
      c.remoteAddress,
      [...(c.hostnames.length > 0 ? c.hostnames : ['*']), ...c.tcpPorts.map((p) => `tcp:${p}`)].join(','),
      formatUptime(now - Date.parse(c.connectedSince)),
      c.requestsPerSecond === null ? '-' : c.requestsPerSecond.toFixed(1),
      String(c.inFlight),
      String(c.requestsServed),
      formatBytes(c.bytesIn),
      formatBytes(c.bytesOut),
      c.lastRttMs === null ? '-' : c.lastRttMs.toFixed(1),
    ]);
    out.push(
      table(
        ['CLIENT', 'ADDRESS', 'HOSTNAMES/PORTS', 'UPTIME', 'REQ/S', 'IN FLIGHT', 'REQUESTS', 'BYTES IN', 'BYTES OUT', 'RTT MS'],
        rows,
        new Set([4, 5, 6, 7, 8, 9]),
      ),
    );
  }
  const peers = s.peers ?? [];
  out.push('');
  if (peers.length === 0) {
    out.push('servers: this one only (no peers)');
  } else {
    out.push('servers:');
    out.push(
      table(
        ['PEER', 'STATE', 'INSTANCE', 'CLIENTS'],
        peers.map((p) => [p.target, p.state, p.instanceId ?? '-', String(p.clients)]),
        new Set([3]),
      ),
    );
  }
  return `${out.join('\n')}\n`;
}
