import { isIP } from 'node:net';
import { isHostname } from '../kinds.ts';

/** Where a listener binds: `ADDR:PORT`. */
export interface BindAddress {
  /** IP address or hostname (IPv6 without brackets). */
  readonly host: string;
  /** TCP port, 0-65535 (0 = any free port). */
  readonly port: number;
}

/** Parses `ADDR:PORT` (IPv6 as `[::1]:9100`) into a {@link BindAddress}. */
export function parseBindAddress(raw: string): BindAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(raw.trim());
  const host = m ? (m[1] ?? m[2]) : '';
  const port = m ? Number(m[3]) : NaN;
  const hostOk = m?.[1] !== undefined ? isIP(host) === 6 : isIP(host) === 4 || isHostname(host);
  if (!m || !hostOk || !(port >= 0 && port <= 65535))
    throw new Error('expected ADDR:PORT, e.g. 127.0.0.1:9100 or [::1]:9100 (port 0 = any free port)');
  return { host, port };
}

/**
 * Options of metrics and the access log, the same on the exit server and the edge client.
 */
export const OBSERVABILITY_OPTIONS = {
  /** Unauthenticated Prometheus listener, `ADDR:PORT`; unset = none. */
  metricsBind: {
    kind: 'custom',
    placeholder: 'ADDR:PORT',
    expected: 'ADDR:PORT, e.g. 127.0.0.1:9100 or [::1]:9100 (port 0 = any free port)',
    parse: parseBindAddress,
    description: 'serve Prometheus metrics on GET /metrics at this address, without authentication (for a private scrape network)',
  },
  /** Where one line per request goes: `off`, `stdout`, or a file path (appended to). */
  accessLog: {
    kind: 'string',
    placeholder: 'off|stdout|FILE',
    default: 'stdout',
    description: 'access log, one JSON line per request: off, stdout (human-readable on a terminal), or a file to append to',
  },
} as const;
