import { describe, expect, it } from 'vitest';
import { ProtocolError } from './errors.ts';
import { PEERS_LIMITS, checkInstanceIds, decodePeers, encodePeers, isInstanceId } from './peers.ts';

describe('PEERS payload', () => {
  it('round trips a set of instance ids, dropping repeats', () => {
    expect(decodePeers(encodePeers(['a', 'b-2', 'c.3:x']))).toEqual(['a', 'b-2', 'c.3:x']);
    expect(decodePeers(encodePeers(['a', 'a', 'b']))).toEqual(['a', 'b']);
    expect(decodePeers(encodePeers([]))).toEqual([]);
  });

  it('a full set of the longest ids fits the frame limit', () => {
    const ids = Array.from({ length: PEERS_LIMITS.maxInstances }, (_, i) => `${i}`.padStart(PEERS_LIMITS.maxIdLength, 'x'));
    const payload = encodePeers(ids);
    expect(payload.length).toBeLessThanOrEqual(PEERS_LIMITS.maxEncodedBytes);
    expect(decodePeers(payload)).toEqual(ids);
  });

  it('encodes at most maxInstances ids', () => {
    const ids = Array.from({ length: PEERS_LIMITS.maxInstances + 5 }, (_, i) => `p${i}`);
    expect(decodePeers(encodePeers(ids))).toHaveLength(PEERS_LIMITS.maxInstances);
  });

  it('refuses malformed payloads with TUN_ERR_PROTOCOL', () => {
    const bad = [
      '',
      'nope',
      '[]',
      'null',
      '{}',
      '{"instances":"a"}',
      '{"instances":["a","a"]}',
      '{"instances":["has space"]}',
      `{"instances":["${'x'.repeat(129)}"]}`,
      JSON.stringify({ instances: Array.from({ length: 65 }, (_, i) => `p${i}`) }),
    ];
    for (const text of bad) {
      let err: unknown;
      try {
        decodePeers(Buffer.from(text));
      } catch (e) {
        err = e;
      }
      expect(err, text).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).code).toBe('TUN_ERR_PROTOCOL');
    }
  });

  it('instance ids use the client-id alphabet', () => {
    expect(isInstanceId('0f0e8c1a-1d5e-4b43-9a55-3f0d5d2b1a7c')).toBe(true);
    expect(isInstanceId('-leading-dash')).toBe(false);
    expect(isInstanceId('')).toBe(false);
    expect(isInstanceId(7)).toBe(false);
    expect(checkInstanceIds(['a', 'b'])).toEqual(['a', 'b']);
    expect(checkInstanceIds('a')).toBeUndefined();
  });
});
