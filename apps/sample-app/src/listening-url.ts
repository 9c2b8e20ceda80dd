import type { AddressInfo } from 'node:net';

/** `http://host:port` for a bound TCP address, bracketing IPv6 hosts as URLs require. */
export function listeningUrl({ address, port }: AddressInfo): string {
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
}
