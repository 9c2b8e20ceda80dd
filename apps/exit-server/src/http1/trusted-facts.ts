import { acceptRequestId } from '@tunnel/observability';
import { stripV4Mapped } from '@tunnel/tunnel-protocol';

/** What a trusted proxy tells about a request (only read with --trust-proxy). */
export interface TrustedFacts {
  /** A valid incoming X-Request-Id, else undefined. */
  requestId: string | undefined;
  /** The address the proxy saw: the last X-Forwarded-For entry (`::ffff:` dropped from a v4 one), else undefined. */
  clientAddress: string | undefined;
}

/**
 * Reads X-Request-Id and the last X-Forwarded-For entry from a request's raw headers. The last
 * entry is the one our trusted proxy appended; anything left of it came from the client and may
 * be forged. An id that is empty, over 128 characters or has unsafe characters is not kept.
 */
export function trustedFacts(rawHeaders: readonly string[]): TrustedFacts {
  const facts: TrustedFacts = { requestId: undefined, clientAddress: undefined };
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (name.length === 12 && name.toLowerCase() === 'x-request-id') {
      facts.requestId = acceptRequestId(rawHeaders[i + 1].trim());
    } else if (name.length === 15 && name.toLowerCase() === 'x-forwarded-for') {
      const value = rawHeaders[i + 1];
      const last = value.slice(value.lastIndexOf(',') + 1).trim();
      if (last !== '') facts.clientAddress = stripV4Mapped(last);
    }
  }
  return facts;
}
