import { describe, expect, it } from 'vitest';
import { findByParentDomain, wildcardCovers, wildcardDomain } from './wildcard-host.ts';

describe('wildcard hostnames', () => {
  it('knows the domain a *. pattern covers, and none for an exact name', () => {
    expect(wildcardDomain('*.example.com')).toBe('example.com');
    expect(wildcardDomain('example.com')).toBeUndefined();
    expect(wildcardDomain('*')).toBeUndefined();
  });

  it('walks from the nearest parent domain up, skipping values the caller refuses', () => {
    const byDomain = new Map([
      ['example.com', 'outer'],
      ['b.example.com', 'inner'],
    ]);
    expect(findByParentDomain('a.b.example.com', byDomain)).toBe('inner');
    expect(findByParentDomain('a.b.example.com', byDomain, (v) => v !== 'inner')).toBe('outer');
    expect(findByParentDomain('example.com', byDomain)).toBeUndefined();
    expect(findByParentDomain('other.org', byDomain)).toBeUndefined();
  });

  it('covers subdomains at any depth, never the domain itself nor a lookalike', () => {
    expect(wildcardCovers('*.example.com', 'a.example.com')).toBe(true);
    expect(wildcardCovers('*.example.com', 'a.b.example.com')).toBe(true);
    expect(wildcardCovers('*.example.com', 'example.com')).toBe(false);
    expect(wildcardCovers('*.example.com', 'badexample.com')).toBe(false);
    expect(wildcardCovers('example.com', 'a.example.com')).toBe(false);
  });
});
