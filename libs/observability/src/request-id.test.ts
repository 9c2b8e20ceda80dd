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
});
