import { describe, expect, it } from 'vitest';
import { hostOf, stripV4Mapped, withForwarded } from './headers.ts';

describe('withForwarded', () => {
  const peer = { remoteAddress: '203.0.113.9', clientAddress: '203.0.113.9', proto: 'http', host: 'app.com', trustProxy: false };
  // Behind an ALB at 10.0.0.2 that saw the client 198.51.100.7.
  const alb = { remoteAddress: '::ffff:10.0.0.2', clientAddress: '198.51.100.7', proto: 'http', host: 'app.com', trustProxy: true };
  const ours = (xff: string, real: string, proto = 'http') => [
    'X-Forwarded-For',
    xff,
    'X-Forwarded-Proto',
    proto,
    'X-Forwarded-Host',
    'app.com',
    'X-Real-IP',
    real,
  ];
  const forged = [
    'Forwarded',
    'for=1.2.3.4;host=evil.example;proto=https',
    'X-Real-IP',
    '1.2.3.4',
    'X-Forwarded-For',
    '6.6.6.6, 7.7.7.7',
    'x-forwarded-proto',
    'https',
    'X-Forwarded-Host',
    'evil.example',
    'X-Forwarded-Port',
    '443',
    'X-Forwarded-Prefix',
    '/admin',
    'X-Forwarded-Server',
    'evil',
    'X-Forwarded-Ssl',
    'on',
    'X-Forwarded',
    'for=1.2.3.4',
    'Forwarded-For',
    '1.2.3.4',
  ];

  it.each([
    ['without trustProxy every forwarding field is dropped and ours set', forged, peer, ours('203.0.113.9', '203.0.113.9')],
    [
      "with trustProxy the chain, proto and port are the proxy's; the rest dropped",
      forged,
      alb,
      [...ours('6.6.6.6, 7.7.7.7, 10.0.0.2', '198.51.100.7', 'https').slice(0, 6), 'X-Forwarded-Port', '443', 'X-Real-IP', '198.51.100.7'],
    ],
    [
      'any case',
      [
        'FORWARDED',
        'for=1.2.3.4',
        'x-REAL-ip',
        '1.2.3.4',
        'x-forwarded-PORT',
        '1',
        'X-FORWARDED-prefix',
        '/a',
        'x-FoRwArDeD-fOr',
        '6.6.6.6',
      ],
      peer,
      ours('203.0.113.9', '203.0.113.9'),
    ],
    [
      'any case, trusted',
      ['x-FORWARDED-port', '8443', 'x-forwarded-FOR', '6.6.6.6', 'x-real-IP', '1.2.3.4', 'X-FORWARDED-PROTO', 'https'],
      alb,
      [
        'X-Forwarded-For',
        '6.6.6.6, 10.0.0.2',
        'X-Forwarded-Proto',
        'https',
        'X-Forwarded-Host',
        'app.com',
        'X-Forwarded-Port',
        '8443',
        'X-Real-IP',
        '198.51.100.7',
      ],
    ],
    [
      'duplicates: all dropped',
      [
        'X-Real-IP',
        '1.1.1.1',
        'X-Real-IP',
        '2.2.2.2',
        'Forwarded',
        'for=a',
        'forwarded',
        'for=b',
        'X-Forwarded-Port',
        '1',
        'X-Forwarded-Port',
        '2',
      ],
      peer,
      ours('203.0.113.9', '203.0.113.9'),
    ],
    [
      'duplicates, trusted: one chain of every X-Forwarded-For hop, the last proto and port',
      [
        'X-Forwarded-For',
        '6.6.6.6',
        'X-Forwarded-Port',
        '1',
        'X-Forwarded-For',
        '7.7.7.7, 8.8.8.8',
        'X-Forwarded-Port',
        '2',
        'X-Forwarded-Proto',
        'http',
        'X-Forwarded-Proto',
        'https',
      ],
      alb,
      [
        'X-Forwarded-For',
        '6.6.6.6, 7.7.7.7, 8.8.8.8, 10.0.0.2',
        'X-Forwarded-Proto',
        'https',
        'X-Forwarded-Host',
        'app.com',
        'X-Forwarded-Port',
        '2',
        'X-Real-IP',
        '198.51.100.7',
      ],
    ],
    [
      'near misses go on, in order',
      ['Accept', '*/*', 'X-Forwarder', 'a', 'X-Real-IPs', 'b', 'X-Forwarding-For', 'c', 'Forwarded-By', 'd', 'X-Forwarded_For', 'e'],
      peer,
      [
        'Accept',
        '*/*',
        'X-Forwarder',
        'a',
        'X-Real-IPs',
        'b',
        'X-Forwarding-For',
        'c',
        'Forwarded-By',
        'd',
        'X-Forwarded_For',
        'e',
        ...ours('203.0.113.9', '203.0.113.9'),
      ],
    ],
    [
      'nothing forwarded, trusted: our facts, v4-mapped stripped',
      [],
      { ...alb, clientAddress: '::ffff:10.0.0.2' },
      ours('10.0.0.2', '10.0.0.2'),
    ],
    ['IPv6 peer', [], { ...peer, remoteAddress: '2001:db8::1', clientAddress: '2001:db8::1' }, ours('2001:db8::1', '2001:db8::1')],
  ])('%s', (_what, headers, facts, expected) => {
    const out = withForwarded(headers, facts);
    expect(out).toEqual(expected);
    if (!facts.trustProxy)
      for (const forgedValue of ['1.2.3.4', '6.6.6.6', 'evil', '/admin', '443']) expect(out.join('\n')).not.toContain(forgedValue);
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
