import { describe, expect, it } from 'vitest';
import { Upstreams } from './upstreams.ts';

describe('Upstreams', () => {
  it('matches exact hostnames, then wildcards, then the default', () => {
    const u = new Upstreams(
      [
        { hostname: 'app.example.test', url: 'http://127.0.0.1:3000/' },
        { hostname: '*.example.test', url: 'http://[::1]:4000/' },
        { hostname: null, url: 'http://127.0.0.1:5000/' },
      ],
      8,
    );
    expect(u.match('app.example.test')?.url.port).toBe('3000');
    expect(u.match('x.example.test')?.url.port).toBe('4000');
    expect(u.match('x.example.test')).toMatchObject({ host: '::1', port: 4000, secure: false });
    expect(u.match('elsewhere.test')?.url.port).toBe('5000');
    expect(u.declaredHostnames).toEqual([]);
  });

  it('has no match for an unknown host without a default, and declares its hostnames', () => {
    const u = new Upstreams([{ hostname: 'app.example.test', url: 'http://127.0.0.1:3000/' }], 8);
    expect(u.match('other.test')).toBeUndefined();
    expect(u.declaredHostnames).toEqual(['app.example.test']);
  });

  it('dials the scheme default port when the URL names none', () => {
    const u = new Upstreams(
      [
        { hostname: null, url: 'https://app.internal/' },
        { hostname: 'b.test', url: 'http://b.internal/' },
      ],
      8,
    );
    expect(u.match('x')).toMatchObject({ host: 'app.internal', port: 443, secure: true });
    expect(u.match('b.test')).toMatchObject({ port: 80, secure: false });
  });
});
