import { describe, expect, it } from 'vitest';
import { unbracketHost } from './ipv6-brackets.ts';

describe('unbracketHost', () => {
  it('drops the brackets of an IPv6 address and leaves every other host alone', () => {
    expect(unbracketHost('[::1]')).toBe('::1');
    expect(unbracketHost('[fd00::5]')).toBe('fd00::5');
    expect(unbracketHost('::1')).toBe('::1');
    expect(unbracketHost('example.com')).toBe('example.com');
    expect(unbracketHost('[')).toBe('[');
  });
});
