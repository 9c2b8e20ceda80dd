import { randomBytes } from 'node:crypto';

/** Most status-page sessions held at once (count); the oldest goes first. */
export const MAX_UI_SESSIONS = 64;
/** A status-page login lasts this long, ms (12 h). */
export const UI_SESSION_TTL_MS = 12 * 3600_000;

/**
 * Logins to the status page. The cookie carries a random session id, never the admin token, so
 * a leaked cookie dies with its session (logout, expiry, restart). Bounded: past
 * {@link MAX_UI_SESSIONS} the oldest session is dropped.
 */
export class UiSessions {
  private readonly expiry = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A new session's id (32 random bytes, base64url). */
  create(): string {
    const id = randomBytes(32).toString('base64url');
    this.expiry.set(id, this.now() + UI_SESSION_TTL_MS);
    while (this.expiry.size > MAX_UI_SESSIONS) this.expiry.delete(this.expiry.keys().next().value as string);
    return id;
  }

  /** True while `id` is a live session. */
  valid(id: string | undefined): boolean {
    if (id === undefined) return false;
    const until = this.expiry.get(id);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.expiry.delete(id);
    return false;
  }

  /** Ends a session. */
  drop(id: string | undefined): void {
    if (id !== undefined) this.expiry.delete(id);
  }
}

/** Name of the status page's session cookie. */
export const UI_COOKIE = 'tunnel_ui';

/** The value of cookie `name` in a `Cookie` header, if present. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
