import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { loadConfig } from '../load.ts';
import { edgeClientSchema, isSecureOrLoopback } from './edge-client.ts';

const env = { TUNNEL_TOKEN: 'edge-client-test-token-0123456789abc' };
const load = (argv: string[]) => loadConfig(edgeClientSchema, { argv: [...argv, '--upstream', 'http://127.0.0.1:3000'], env });

describe('edge client --url and --insecure', () => {
  it.each(['wss://tunnel.example.com', 'ws://127.0.0.1:8123', 'ws://127.9.9.9:1', 'ws://localhost:8123', 'ws://[::1]:8123'])(
    'accepts %s',
    (url) => {
      expect(isSecureOrLoopback(url)).toBe(true);
      expect(load(['--url', url]).url).toBeDefined();
    },
  );

  it.each(['ws://tunnel.example.com:8123', 'ws://10.0.0.5:8123', 'ws://exit:8123', 'ws://[fd00::1]:8123', 'ws://128.0.0.1'])(
    'refuses %s unless --insecure (the token would travel in clear)',
    (url) => {
      expect(isSecureOrLoopback(url)).toBe(false);
      let err: unknown;
      try {
        load(['--url', url]);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).code).toBe('TUN_ERR_CONFIG_INSECURE_URL');
      expect((err as ConfigError).message).toMatch(/use wss:\/\/, or pass --insecure/);
      expect(load(['--url', url, '--insecure']).insecure).toBe(true);
    },
  );
});
