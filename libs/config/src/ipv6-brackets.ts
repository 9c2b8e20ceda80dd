/**
 * A host as URLs and `HOST:PORT` strings write it, without the brackets an IPv6 address takes
 * there (`[::1]` -> `::1`); any other host unchanged. Sockets, DNS and `isIP` want the bare form.
 */
export function unbracketHost(host: string): string {
  return host.length > 1 && host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
