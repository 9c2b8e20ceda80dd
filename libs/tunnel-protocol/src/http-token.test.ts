import { describe, expect, it } from 'vitest';
import { HTTP_TOKEN, TCHAR_PUNCTUATION } from './http-token.ts';

describe('HTTP tokens', () => {
  it('accept tchar only (RFC 9110 5.6.2)', () => {
    for (const ok of ['GET', 'M-SEARCH', 'x_y', TCHAR_PUNCTUATION]) expect(HTTP_TOKEN.test(ok), ok).toBe(true);
    for (const bad of ['', 'GE T', 'a:b', 'a"b', '(x)', 'é']) expect(HTTP_TOKEN.test(bad), bad).toBe(false);
  });
});
