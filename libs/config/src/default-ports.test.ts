import { describe, expect, it } from 'vitest';
import { urlPort } from './default-ports.ts';

describe('urlPort', () => {
  it("is the URL's own port, else its scheme's default", () => {
    expect(urlPort(new URL('https://a.test/'))).toBe(443);
    expect(urlPort(new URL('wss://a.test/'))).toBe(443);
    expect(urlPort(new URL('http://a.test/'))).toBe(80);
    expect(urlPort(new URL('ws://a.test/'))).toBe(80);
    expect(urlPort(new URL('ws://[::1]:8123/'))).toBe(8123);
  });
});
