import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { isInstanceId } from '@tunnel/tunnel-protocol';
import type { ProbeResult } from './peer-set.ts';

/** Largest /healthz body read from a peer, bytes (ours is under 200). */
const MAX_BODY_BYTES = 4096;

/** Asks one peer for its instance id; never rejects. */
export type Probe = (host: string, port: number, timeoutMs: number) => Promise<ProbeResult>;

/** Interprets a /healthz answer. Pure. */
export function parseHealthz(status: number, body: string): ProbeResult {
  if (status !== 200) return { kind: 'draining' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { kind: 'silent' };
  }
  const p = parsed as { instanceId?: unknown; clients?: unknown } | null;
  if (!p || !isInstanceId(p.instanceId)) return { kind: 'silent' };
  const clients = Number.isSafeInteger(p.clients) && (p.clients as number) >= 0 ? (p.clients as number) : 0;
  return { kind: 'live', instanceId: p.instanceId, clients };
}

/**
 * Probes `GET /healthz` on a peer's control port over http, or https when the control ports
 * serve TLS. The certificate is not verified: peers are addressed by IP (from DNS or --peer),
 * and all an impostor could do is advertise an instance id that clients then fail to find.
 */
export function httpProbe(tls: boolean): Probe {
  return (host, port, timeoutMs) =>
    new Promise<ProbeResult>((resolve) => {
      let settled = false;
      const done = (r: ProbeResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        resolve(r);
      };
      const options = {
        host,
        port,
        path: '/healthz',
        agent: false,
        headers: { accept: 'application/json' },
        ...(tls ? { rejectUnauthorized: false } : {}),
      };
      const req = (tls ? httpsGet : httpGet)(options, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          body += d;
          if (body.length > MAX_BODY_BYTES) done({ kind: 'silent' });
        });
        res.on('end', () => done(parseHealthz(res.statusCode ?? 0, body)));
        res.on('error', () => done({ kind: 'silent' }));
      });
      req.on('error', () => done({ kind: 'silent' }));
      const timer = setTimeout(() => done({ kind: 'silent' }), timeoutMs);
    });
}
