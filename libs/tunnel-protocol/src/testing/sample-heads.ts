import type { HttpRequestHead } from '../head.ts';

/** An HTTP open head with the parts a codec must carry intact: a query, an escaped byte, a port in the authority. */
export const SAMPLE_HTTP_HEAD: HttpRequestHead = {
  kind: 'http',
  method: 'POST',
  target: '/a/b?c=d&e=%20f',
  authority: 'app.example.com:8443',
  remoteAddress: '203.0.113.7',
  remotePort: 51234,
};
