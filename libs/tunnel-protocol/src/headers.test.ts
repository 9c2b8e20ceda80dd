import { describe, expect, it } from 'vitest';
import { hostOf, requestHeadersToTunnel, responseHeadersToTunnel, stripV4Mapped, withForwarded } from './headers.ts';

describe('requestHeadersToTunnel', () => {
  it('strips hop-by-hop headers and pulls out host as authority', () => {
    const raw = [
      'Host', 'App.Example.COM:8080',
      'Connection', 'keep-alive',
      'Keep-Alive', 'timeout=5',
      'Proxy-Connection', 'keep-alive',
      'Proxy-Authorization', 'Basic x',
      'TE', 'trailers',
      'Trailer', 'X-Foo',
      'Transfer-Encoding', 'chunked',
      'Upgrade', 'h2c',
      'Accept', 'text/html',
    ];
    const r = requestHeadersToTunnel(raw);
    expect(r.authority).toBe('app.example.com:8080');
    expect(r.headers).toEqual(['Accept', 'text/html']);
    expect(r.upgrade).toBeUndefined();
  });

  it('strips headers listed in Connection (any case, several Connection headers)', () => {
    const raw = ['Connection', 'X-Secret, close', 'x-secret', '1', 'X-Keep', 'a', 'connection', ' X-Other ', 'X-OTHER', '2'];
    expect(requestHeadersToTunnel(raw).headers).toEqual(['X-Keep', 'a']);
  });

  it('keeps multi-value headers and cookies in order, keeps empty values', () => {
    const raw = ['Cookie', 'a=1', 'Accept', 'a/b', 'cookie', 'b=2', 'X-Empty', '', 'Accept', 'c/d'];
    const r = requestHeadersToTunnel(raw);
    expect(r.headers).toEqual(raw);
    expect(r.authority).toBe('');
  });

  it('keeps Upgrade/Connection for an upgrade request', () => {
    const raw = ['Host', 'x.com', 'Connection', 'keep-alive, Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Key', 'abc', 'Sec-WebSocket-Version', '13'];
    const r = requestHeadersToTunnel(raw);
    expect(r.upgrade).toBe('websocket');
    expect(r.headers).toEqual(['Sec-WebSocket-Key', 'abc', 'Sec-WebSocket-Version', '13', 'Connection', 'Upgrade', 'Upgrade', 'websocket']);
  });

  it('an Upgrade header without Connection: upgrade is not an upgrade', () => {
    const r = requestHeadersToTunnel(['Upgrade', 'websocket']);
    expect(r.upgrade).toBeUndefined();
    expect(r.headers).toEqual([]);
  });
});

describe('responseHeadersToTunnel', () => {
  it('strips hop-by-hop and Connection-listed headers, keeps set-cookie order', () => {
    const raw = [
      'Set-Cookie', 'a=1',
      'Connection', 'close, X-Hop',
      'X-Hop', 'y',
      'Transfer-Encoding', 'chunked',
      'Keep-Alive', 'timeout=5',
      'set-cookie', 'b=2',
      'Content-Type', 'text/plain',
      'Set-Cookie', 'c=3',
    ];
    expect(responseHeadersToTunnel(raw, 200)).toEqual(['Set-Cookie', 'a=1', 'set-cookie', 'b=2', 'Content-Type', 'text/plain', 'Set-Cookie', 'c=3']);
  });

  it('101 keeps Upgrade and Connection', () => {
    const raw = ['Upgrade', 'websocket', 'Connection', 'Upgrade', 'Sec-WebSocket-Accept', 'xyz', 'Keep-Alive', '1'];
    expect(responseHeadersToTunnel(raw, 101)).toEqual(['Upgrade', 'websocket', 'Connection', 'Upgrade', 'Sec-WebSocket-Accept', 'xyz']);
  });

  it('non-101 drops Upgrade', () => {
    expect(responseHeadersToTunnel(['Upgrade', 'h2c', 'Connection', 'Upgrade', 'X', '1'], 200)).toEqual(['X', '1']);
  });
});

describe('withForwarded', () => {
  const forged = ['Accept', '*/*', 'X-Forwarded-For', '6.6.6.6, 7.7.7.7', 'x-forwarded-proto', 'https', 'X-Forwarded-Host', 'evil.com'];

  it('without trustProxy drops forged values and sets ours', () => {
    const out = withForwarded(forged, { remoteAddress: '203.0.113.9', proto: 'http', host: 'app.com', trustProxy: false });
    expect(out).toEqual(['Accept', '*/*', 'X-Forwarded-For', '203.0.113.9', 'X-Forwarded-Proto', 'http', 'X-Forwarded-Host', 'app.com']);
    expect(out.join(' ')).not.toContain('6.6.6.6');
    expect(out.join(' ')).not.toContain('evil.com');
  });

  it('with trustProxy appends to the chain and keeps proto/host', () => {
    const out = withForwarded([...forged, 'X-Forwarded-For', '8.8.8.8'], { remoteAddress: '::ffff:10.0.0.2', proto: 'http', host: 'app.com', trustProxy: true });
    expect(out).toEqual([
      'Accept', '*/*',
      'X-Forwarded-For', '6.6.6.6, 7.7.7.7, 8.8.8.8, 10.0.0.2',
      'X-Forwarded-Proto', 'https',
      'X-Forwarded-Host', 'evil.com',
    ]);
  });

  it('with trustProxy and nothing forwarded uses our facts', () => {
    expect(withForwarded([], { remoteAddress: '2001:db8::1', proto: 'https', host: 'a.com', trustProxy: true })).toEqual([
      'X-Forwarded-For', '2001:db8::1', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'a.com',
    ]);
  });

  it('stripV4Mapped', () => {
    expect(stripV4Mapped('::ffff:1.2.3.4')).toBe('1.2.3.4');
    expect(stripV4Mapped('::ffff:abcd')).toBe('::ffff:abcd');
    expect(stripV4Mapped('::1')).toBe('::1');
    expect(stripV4Mapped('1.2.3.4')).toBe('1.2.3.4');
  });
});

describe('hostOf', () => {
  it.each([
    ['example.com', 'example.com'],
    ['Example.COM', 'example.com'],
    ['example.com:8080', 'example.com'],
    ['EXAMPLE.com:80', 'example.com'],
    ['127.0.0.1', '127.0.0.1'],
    ['127.0.0.1:3000', '127.0.0.1'],
    ['[::1]', '::1'],
    ['[::1]:8080', '::1'],
    ['[2001:DB8::1]:443', '2001:db8::1'],
    ['[fe80::1%25eth0]', 'fe80::1%25eth0'],
    ['', ''],
  ])('%s -> %s', (authority, host) => {
    expect(hostOf(authority)).toBe(host);
  });
});
