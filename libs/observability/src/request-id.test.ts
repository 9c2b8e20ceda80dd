import { describe, expect, it } from 'vitest';
import { MAX_REQUEST_ID_LENGTH, acceptRequestId, newRequestId } from './request-id.ts';

describe('request ids', () => {
  it('keeps safe ids and refuses empty, long or unsafe ones', () => {
    expect(acceptRequestId('abc-123_x.y:z/1+2=')).toBe('abc-123_x.y:z/1+2=');
    expect(acceptRequestId(undefined)).toBeUndefined();
    expect(acceptRequestId('')).toBeUndefined();
    expect(acceptRequestId('a'.repeat(MAX_REQUEST_ID_LENGTH + 1))).toBeUndefined();
    for (const bad of ['a b', 'a"b', 'a\nb', 'a,b', 'a;b', 'é']) expect(acceptRequestId(bad)).toBeUndefined();
  });

  it('generates distinct ids that it would accept itself', () => {
    const a = newRequestId();
    expect(acceptRequestId(a)).toBe(a);
    expect(newRequestId()).not.toBe(a);
  });

  it('generates version 4 UUIDs, distinct across refills of the random bytes', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const id = newRequestId();
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      seen.add(id);
    }
    expect(seen.size).toBe(1000);
  });
});
