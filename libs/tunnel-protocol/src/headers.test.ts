import { describe, expect, it } from 'vitest';
import { hostOf, stripV4Mapped, withForwarded } from './headers.ts';

describe('withForwarded', () => {
  const forged = ['Accept', '*/*', 'X-Forwarded-For', '6.6.6.6, 7.7.7.7', 'x-forwarded-proto', 'https', 'X-Forwarded-Host', 'evil.com'];

  it('without trustProxy drops forged values and sets ours', () => {
    const out = withForwarded(forged, { remoteAddress: '203.0.113.9', proto: 'http', host: 'app.com', trustProxy: false });
    expect(out).toEqual(['Accept', '*/*', 'X-Forwarded-For', '203.0.113.9', 'X-Forwarded-Proto', 'http', 'X-Forwarded-Host', 'app.com']);
    expect(out.join(' ')).not.toContain('6.6.6.6');
    expect(out.join(' ')).not.toContain('evil.com');
  });

  it('with trustProxy appends to the chain and keeps proto/host', () => {
    const out = withForwarded([...forged, 'X-Forwarded-For', '8.8.8.8'], {
      remoteAddress: '::ffff:10.0.0.2',
      proto: 'http',
      host: 'app.com',
      trustProxy: true,
    });
    expect(out).toEqual([
      'Accept',
      '*/*',
      'X-Forwarded-For',
      '6.6.6.6, 7.7.7.7, 8.8.8.8, 10.0.0.2',
      'X-Forwarded-Proto',
      'https',
      'X-Forwarded-Host',
      'evil.com',
    ]);
  });

  it('with trustProxy and nothing forwarded uses our facts', () => {
    expect(withForwarded([], { remoteAddress: '2001:db8::1', proto: 'https', host: 'a.com', trustProxy: true })).toEqual([
      'X-Forwarded-For',
      '2001:db8::1',
      'X-Forwarded-Proto',
      'https',
      'X-Forwarded-Host',
      'a.com',
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
