import { STATUS_CODES } from 'node:http';

/**
 * A complete short plain-text HTTP/1.1 response that closes the connection: what the exit
 * server writes on a raw socket when it answers by itself (a refused upgrade, a public request
 * it cannot route or parse). `headers` are extra `name: value` lines.
 */
export function plainReply(status: number, body: string, headers: readonly string[] = []): string {
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n`;
  for (const h of headers) head += `${h}\r\n`;
  return `${head}content-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}
