import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { loadConfig } from '../load.ts';
import { edgeClientSchema, parseProxyProtocol } from './edge-client.ts';
import { exitServerSchema, parsePortRange } from './exit-server.ts';

const env = { TUNNEL_TOKEN: 'tok'.repeat(11) };

describe('TCP options', () => {
  it.each([
    ['20000-20100', { from: 20000, to: 20100 }],
    ['22-22', { from: 22, to: 22 }],
  ])('parsePortRange(%s)', (raw, expected) => {
    expect(parsePortRange(raw)).toEqual(expected);
  });

  it.each(['20100-20000', '0-10', '1-70000', 'a-b', '2000', ''])('parsePortRange rejects %j', (raw) => {
    expect(() => parsePortRange(raw)).toThrow(/FROM-TO/);
  });

  it.each([
    ['5432=v2', { publicPort: 5432, version: 2 }],
    ['22=v1', { publicPort: 22, version: 1 }],
  ])('parseProxyProtocol(%s)', (raw, expected) => {
    expect(parseProxyProtocol(raw)).toEqual(expected);
  });

  it.each(['5432=v3', '5432', 'x=v1', '70000=v1'])('parseProxyProtocol rejects %j', (raw) => {
    expect(() => parseProxyProtocol(raw)).toThrow(/PORT=v1 or PORT=v2/);
  });

  it('exit server: --tcp-port-range resolves, a TCP port equal to the HTTP port is a conflict', () => {
    const c = loadConfig(exitServerSchema, { argv: ['--tcp-port', '2222', '--tcp-port-range', '20000-20010'], env });
    expect(c.tcpPort).toEqual([2222]);
    expect(c.tcpPortRange).toEqual({ from: 20000, to: 20010 });
    const err = (() => {
      try {
        loadConfig(exitServerSchema, { argv: ['--tcp-port', '8000'], env });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/--tcp-port: port 8000 is already the HTTP or control port/);
  });

  it('edge client: TCP-only is allowed; --proxy-protocol must name a forwarded port', () => {
    const c = loadConfig(edgeClientSchema, {
      argv: ['--url', 'ws://localhost', '--tcp', '2222=127.0.0.1:22', '--proxy-protocol', '2222=v2'],
      env,
    });
    expect(c.upstream).toEqual([]);
    expect(c.proxyProtocol).toEqual([{ publicPort: 2222, version: 2 }]);
    expect(() =>
      loadConfig(edgeClientSchema, { argv: ['--url', 'ws://localhost', '--tcp', '2222=127.0.0.1:22', '--proxy-protocol', '5432=v1'], env }),
    ).toThrow(/--proxy-protocol: port 5432 is not forwarded by any --tcp/);
  });
});
