import { isIP } from 'node:net';
import { unbracketHost } from '../ipv6-brackets.ts';
import { isHostname } from '../kinds.ts';

/** A peer exit server's control port, as given with `--peer HOST:PORT`. */
export interface PeerAddress {
  /** IP address or hostname (IPv6 without brackets). */
  readonly host: string;
  /** Control port, 1-65535. */
  readonly port: number;
}

/** A DNS name whose every A/AAAA record is a peer, as given with `--peers-dns NAME:PORT`. */
export interface PeersDns {
  /** Hostname to resolve (e.g. a Cloud Map service or a Docker network alias). */
  readonly name: string;
  /** Control port of every peer, 1-65535. */
  readonly port: number;
}

function hostPort(raw: string): { host: string; port: number } | undefined {
  const m = /^(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/.exec(raw.trim());
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: unbracketHost(m[1]), port };
}

/** Parses `HOST:PORT` (IPv6 in brackets, e.g. `[fd00::5]:8123`). */
export function parsePeerAddress(raw: string): PeerAddress {
  const hp = hostPort(raw);
  if (!hp || (isIP(hp.host) === 0 && !isHostname(hp.host)))
    throw new Error("expected HOST:PORT (a peer exit server's control port), e.g. 10.0.1.5:8123");
  return hp;
}

/** Parses `NAME:PORT` where NAME is a DNS hostname. */
export function parsePeersDns(raw: string): PeersDns {
  const hp = hostPort(raw);
  if (!hp || isIP(hp.host) !== 0 || !isHostname(hp.host))
    throw new Error('expected NAME:PORT (a DNS name and the control port), e.g. exit-server.tunnel.local:8123');
  return { name: hp.host, port: hp.port };
}

/** Scale-out options of the exit server (peer discovery, readiness, drain delay). */
export const PEER_OPTIONS = {
  /** Static peers: other exit servers' control ports. */
  peer: {
    kind: 'list',
    of: { kind: 'custom', placeholder: 'HOST:PORT', expected: 'HOST:PORT', parse: parsePeerAddress },
    default: [],
    description:
      "another exit server's control port (repeatable); peers are asked for their instance id on /healthz and advertised to edge clients, which attach to every one",
  },
  /** DNS-discovered peers: every A/AAAA record of NAME at PORT. */
  peersDns: {
    kind: 'custom',
    placeholder: 'NAME:PORT',
    expected: 'NAME:PORT',
    parse: parsePeersDns,
    description:
      'every A/AAAA record of NAME is a peer exit server with its control port at PORT, re-resolved every --peer-interval (ECS service discovery, a Docker network alias)',
  },
  /** Interval between DNS resolutions and /healthz probes of peers, in milliseconds. */
  peerInterval: {
    kind: 'duration',
    min: 100,
    max: 60_000,
    default: 2000,
    description: 'how often peers are re-resolved and probed on /healthz (each probe times out after this long too)',
  },
  /** A peer that has not answered for this long leaves the set, in milliseconds. */
  peerTimeout: {
    kind: 'duration',
    min: 100,
    max: 600_000,
    default: 6000,
    description:
      'a peer that has not answered its /healthz probe for this long leaves the advertised set (one that answers "draining" leaves at once); /readyz waits at most this long for a peer\'s first answer',
  },
  /** Longest wait for clients before /readyz answers 200 anyway, in milliseconds. */
  readyTimeout: {
    kind: 'duration',
    min: 0,
    max: 3_600_000,
    default: 30_000,
    description:
      "after start, /readyz (the public target group's health check) answers 200 once this server holds as many clients as its busiest peer, or after this long",
  },
  /** Wait between turning unhealthy and closing the public port on SIGTERM, in milliseconds. */
  drainDelay: {
    kind: 'duration',
    min: 0,
    max: 600_000,
    default: 0,
    description:
      'on SIGTERM, keep serving this long after /healthz and /readyz turn 503, so a load balancer that health-checks stops sending new connections first (behind an ALB its deregistration delay does this: keep 0)',
  },
} as const;
