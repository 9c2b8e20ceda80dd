import { randomUUID } from 'node:crypto';

/** Header carrying a request's id to the upstream (and back in logs). */
export const REQUEST_ID_HEADER = 'x-request-id';

/** Longest request id kept from a trusted proxy, characters. */
export const MAX_REQUEST_ID_LENGTH = 128;

// Visible ASCII minus quotes, backslash, comma and semicolon: safe in a header, a log line and a URL.
const SAFE = /^[A-Za-z0-9._~:@/+=-]+$/;

/** `value` when it is a usable request id (1-128 safe characters), else undefined. */
export function acceptRequestId(value: string | undefined): string | undefined {
  if (value === undefined || value.length === 0 || value.length > MAX_REQUEST_ID_LENGTH) return undefined;
  return SAFE.test(value) ? value : undefined;
}

/** A fresh random request id (a UUID). */
export function newRequestId(): string {
  return randomUUID();
}
