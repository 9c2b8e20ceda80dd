import { describe, expect, it } from 'vitest';
import { Upstreams } from './upstreams.ts';

describe('Upstreams', () => {
  it('matches exact hostnames, then wildcards, then the default', () => {
    const u = new Upstreams(
      [
        { hostname: 'app.example.test', url: 'http://127.0.0.1:3000/' },
        { hostname: '*.example.test', url: 'http://127.0.0.1:4000/base/' },
        { hostname: null, url: 'http://127.0.0.1:5000/' },
      ],
      8,
    );
    expect(u.match('app.example.test')?.url.port).toBe('3000');
    expect(u.match('x.example.test')?.url.port).toBe('4000');
    expect(u.match('x.example.test')?.basePath).toBe('/base');
    expect(u.match('elsewhere.test')?.url.port).toBe('5000');
    expect(u.declaredHostnames).toEqual([]);
    u.destroy();
  });

  it('has no match for an unknown host without a default, and declares its hostnames', () => {
    const u = new Upstreams([{ hostname: 'app.example.test', url: 'http://127.0.0.1:3000/' }], 8);
    expect(u.match('other.test')).toBeUndefined();
    expect(u.declaredHostnames).toEqual(['app.example.test']);
    u.destroy();
  });
});
