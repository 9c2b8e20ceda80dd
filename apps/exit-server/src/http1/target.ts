import { HttpError } from '@tunnel/tunnel-protocol';

/** A request target, reduced to what is forwarded and routed. */
export interface Target {
  /** Origin form (`/path?query`) or `*`: what the upstream sees. */
  readonly path: string;
  /** Authority from an absolute-form target, lower-cased; undefined for origin form and `*`. */
  readonly authority: string | undefined;
}

const ABSOLUTE = /^https?:\/\//i;
// host[:port] or [v6]:port; no userinfo, no percent-encoding, nothing a router could read two ways.
const AUTHORITY = /^(?:[a-z0-9._~-]+|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?$/i;

/**
 * True when `value` is an authority the router and the upstream read alike: host[:port] or
 * [v6]:port, as an absolute-form target's must be. RFC 9112 3.2 makes a Host field with an
 * invalid value a 400; passed on, `a/b` or `user@a` would reach the app as its Host and
 * X-Forwarded-Host (the links it builds, the caches keyed on them).
 */
export function isAuthority(value: string): boolean {
  return AUTHORITY.test(value);
}

function badTarget(detail: string): HttpError {
  return new HttpError('TUN_ERR_BAD_REQUEST', 400, detail);
}

/**
 * Reads a request target (RFC 9112 3.2): origin form passes as it is; absolute form
 * (`http://host/path`) becomes origin form, and its authority, not `Host`, says where the request
 * goes (3.2.2), so a request cannot name one host to the router and another to the upstream; `*`
 * only for OPTIONS. Anything else (authority form outside CONNECT, other schemes, userinfo) is 400.
 */
export function readTarget(method: string, target: string): Target {
  if (target.charCodeAt(0) === 0x2f) return { path: target, authority: undefined };
  if (target === '*') {
    if (method !== 'OPTIONS') throw badTarget('"*" is a target for OPTIONS only');
    return { path: target, authority: undefined };
  }
  if (!ABSOLUTE.test(target)) throw badTarget('the request target is neither origin nor absolute form');
  const rest = target.slice(target.indexOf('//') + 2);
  let end = rest.length;
  // No `#` to look for: parseRequestHead refused it already.
  for (const c of ['/', '?']) {
    const at = rest.indexOf(c);
    if (at >= 0 && at < end) end = at;
  }
  const authority = rest.slice(0, end);
  if (!AUTHORITY.test(authority)) throw badTarget('bad authority in an absolute-form target');
  let path = rest.slice(end);
  if (path === '') path = '/';
  else if (path.charCodeAt(0) === 0x3f) path = `/${path}`;
  return { path, authority: authority.toLowerCase() };
}
