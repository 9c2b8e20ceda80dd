import { describe, expect, it } from 'vitest';
import { bearer, checkBearer } from './auth.ts';

describe('checkBearer', () => {
  const token = 's3cret-token';
  it('accepts the right token', () => {
    expect(checkBearer(bearer(token), token)).toBe(true);
    expect(checkBearer(`Bearer ${token}`, token)).toBe(true);
  });
  it.each([
    ['wrong', 'Bearer nope'],
    ['prefix of token', `Bearer ${token.slice(0, 3)}`],
    ['token plus suffix', `Bearer ${token}x`],
    ['missing', undefined],
    ['empty', ''],
    ['empty bearer', 'Bearer '],
    ['Basic', `Basic ${Buffer.from(`user:${token}`).toString('base64')}`],
    ['Basic with raw token', `Basic ${token}`],
    ['no scheme', token],
    ['double space', `Bearer  ${token}`],
  ])('rejects %s', (_n, header) => {
    expect(checkBearer(header, token)).toBe(false);
  });
  it('an empty configured token matches nothing', () => {
    expect(checkBearer('Bearer ', '')).toBe(false);
    expect(checkBearer(undefined, '')).toBe(false);
  });
});
