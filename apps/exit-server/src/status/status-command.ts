import type { ExitServerStatusConfig } from '@tunnel/config';
import { renderStatus, withRates, type StatusDoc } from './status-table.ts';

/** Where the command writes, and how it waits (injected for tests). */
export interface StatusIo {
  /** Standard output. */
  readonly out: (text: string) => void;
  /** Standard error. */
  readonly err: (text: string) => void;
  /** Wall clock, ms since epoch. */
  readonly now?: () => number;
}

/** Exit codes of `exit-server status`. */
export const STATUS_EXIT = {
  /** At least one client is connected. */
  ok: 0,
  /** The server answered, but no client is connected. */
  noClients: 1,
  /** The server could not be read (unreachable, refused the admin token, bad answer). */
  failed: 2,
} as const;

async function readStatus(config: ExitServerStatusConfig): Promise<StatusDoc> {
  const url = new URL('status', config.url.endsWith('/') ? config.url : `${config.url}/`);
  const res = await fetch(url, {
    headers: config.adminToken === undefined ? {} : { authorization: `Bearer ${config.adminToken}` },
    signal: AbortSignal.timeout(config.timeout),
  });
  const body = await res.text();
  if (res.status !== 200) {
    const code = res.headers.get('x-tunnel-error') ?? `HTTP ${res.status}`;
    const hint =
      res.status === 401 || res.status === 403
        ? ` (the admin token comes from $${config.adminTokenEnv}${config.adminTokenFile ? ` or ${config.adminTokenFile}` : ''}; it must equal the server's --admin-token-env value)`
        : '';
    throw new Error(`${url.origin}/status answered ${code}${hint}`);
  }
  const doc = JSON.parse(body) as StatusDoc;
  if (typeof doc.instanceId !== 'string' || !Array.isArray(doc.clients))
    throw new Error(`${url.origin}/status did not answer an exit server's status`);
  return doc;
}

/**
 * `exit-server status`: reads /status twice, `--sample` apart, for each client's req/s, and
 * prints a table (or JSON with `--json`). Exit code: 0 with clients, 1 without, 2 when the
 * server cannot be read.
 */
export async function runStatus(config: ExitServerStatusConfig, io: StatusIo): Promise<number> {
  const now = io.now ?? Date.now;
  let status;
  try {
    const first = config.sample > 0 ? await readStatus(config) : undefined;
    const firstAt = now();
    if (first) await new Promise((r) => setTimeout(r, config.sample));
    const second = await readStatus(config);
    status = withRates(second, first, now() - firstAt);
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const cause = e.cause?.code ?? e.cause?.message;
    io.err(`exit-server status: ${e.message}${cause ? ` (${cause})` : ''}\n`);
    return STATUS_EXIT.failed;
  }
  io.out(config.json ? `${JSON.stringify(status, null, 2)}\n` : renderStatus(status, now()));
  return status.clients.length > 0 ? STATUS_EXIT.ok : STATUS_EXIT.noClients;
}
