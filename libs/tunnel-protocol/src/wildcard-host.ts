// Declared hostnames (the hello's, the edge client's upstreams, a grant's patterns) are exact
// names or `*.`-prefixed wildcards. One rule for what a wildcard covers, used by every lookup.

/** The domain a `*.` pattern covers the subdomains of (`*.example.com` -> `example.com`); undefined for an exact name. */
export function wildcardDomain(pattern: string): string | undefined {
  return pattern.startsWith('*.') ? pattern.slice(2) : undefined;
}

/**
 * The wildcard walk: the value stored under the nearest parent domain of `host` (lower-case, no
 * port) that `accept` takes: `a.b.example.com` looks up `b.example.com`, then `example.com`, then
 * `com`. Values stored under {@link wildcardDomain} so cover subdomains at any depth, never the
 * domain itself.
 */
export function findByParentDomain<T>(host: string, byDomain: ReadonlyMap<string, T>, accept?: (value: T) => boolean): T | undefined {
  if (byDomain.size === 0) return undefined;
  for (let dot = host.indexOf('.'); dot >= 0; dot = host.indexOf('.', dot + 1)) {
    const value = byDomain.get(host.slice(dot + 1));
    if (value !== undefined && (accept === undefined || accept(value))) return value;
  }
  return undefined;
}

/** True if `pattern` is a `*.` wildcard covering `host`: the rule of {@link findByParentDomain}, for one pattern. */
export function wildcardCovers(pattern: string, host: string): boolean {
  if (wildcardDomain(pattern) === undefined) return false;
  const suffix = pattern.slice(1); // ".example.com"
  return host.length > suffix.length && host.endsWith(suffix);
}
