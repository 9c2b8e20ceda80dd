import { describe, expect, it } from 'vitest';
import { loadConfig } from '../load.ts';
import { edgeClientSchema } from './edge-client.ts';
import { exitServerSchema } from './exit-server.ts';
import { parseBindAddress } from './observability.ts';

describe('parseBindAddress', () => {
  it('reads IPv4, hostnames and bracketed IPv6', () => {
    expect(parseBindAddress('127.0.0.1:9100')).toEqual({ host: '127.0.0.1', port: 9100 });
    expect(parseBindAddress('localhost:0')).toEqual({ host: 'localhost', port: 0 });
    expect(parseBindAddress('[::1]:9100')).toEqual({ host: '::1', port: 9100 });
  });

  it('refuses a missing port, an out-of-range port and a bad host', () => {
    for (const bad of ['127.0.0.1', ':9100', '127.0.0.1:70000', '::1:9100', '[nope]:1', 'a b:1']) {
      expect(() => parseBindAddress(bad), bad).toThrow(/expected ADDR:PORT/);
    }
  });
});

describe('observability options', () => {
  it('default to no metrics listener and the access log on stdout, on both apps', () => {
    const server = loadConfig(exitServerSchema, { argv: ['--token-env', 'T'], env: { T: 'x'.repeat(32) } });
    expect(server.metricsBind).toBeUndefined();
    expect(server.accessLog).toBe('stdout');
    const client = loadConfig(edgeClientSchema, {
      argv: [
        '--url',
        'ws://127.0.0.1:8123',
        '--upstream',
        'http://127.0.0.1:3000',
        '--token-env',
        'T',
        '--metrics-bind',
        '0.0.0.0:9101',
        '--access-log',
        'off',
      ],
      env: { T: 'x'.repeat(32) },
    });
    expect(client.metricsBind).toEqual({ host: '0.0.0.0', port: 9101 });
    expect(client.accessLog).toBe('off');
  });

  it('names the flag and what it expects on a bad --metrics-bind', () => {
    expect(() =>
      loadConfig(exitServerSchema, { argv: ['--token-env', 'T', '--metrics-bind', 'nope'], env: { T: 'x'.repeat(32) } }),
    ).toThrow(/--metrics-bind.*expected ADDR:PORT/);
  });
});
