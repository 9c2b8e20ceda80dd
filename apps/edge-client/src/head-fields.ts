/** The few fields of a head the watcher reads. */
export interface HeadFields {
  /** The request or status line. */
  readonly first: string;
  /** Transfer-Encoding, if present. */
  transferEncoding: string | undefined;
  /** Content-Length, if present. */
  contentLength: string | undefined;
  /** X-Request-Id, if present. */
  requestId: string | undefined;
  /** Upgrade, if present. */
  upgrade: string | undefined;
}

/**
 * One pass over a head's lines: only names of the lengths wanted are lower-cased and compared,
 * so a request costs a handful of string operations, not one per line and field.
 */
export function headFields(text: string): HeadFields {
  let end = text.indexOf('\r\n');
  const fields: HeadFields = {
    first: end < 0 ? text : text.slice(0, end),
    transferEncoding: undefined,
    contentLength: undefined,
    requestId: undefined,
    upgrade: undefined,
  };
  while (end >= 0) {
    const start = end + 2;
    end = text.indexOf('\r\n', start);
    const lineEnd = end < 0 ? text.length : end;
    const colon = text.indexOf(':', start);
    if (colon < 0 || colon > lineEnd) continue;
    const length = colon - start;
    if (length !== 17 && length !== 14 && length !== 12 && length !== 7) continue;
    const name = text.slice(start, colon).toLowerCase();
    const value = text.slice(colon + 1, lineEnd).trim();
    if (name === 'transfer-encoding') fields.transferEncoding = value;
    else if (name === 'content-length') fields.contentLength = value;
    else if (name === 'x-request-id') fields.requestId = value;
    else if (name === 'upgrade') fields.upgrade = value;
  }
  return fields;
}
