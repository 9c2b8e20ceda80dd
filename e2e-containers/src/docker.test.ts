import { describe, expect, inject, it } from 'vitest';
import './support/context.ts';

// Runs first (alphabetical order): states plainly why everything else fails when there is no
// Docker. The suite never skips: without Docker it fails, with how to get it.
describe('container test prerequisites', () => {
  it('Docker answers, the base images exist and the app images are built', () => {
    expect(inject('dockerError'), inject('dockerError')).toBe('');
    expect(Object.keys(inject('images')).sort()).toEqual([
      'edge-client:amd64',
      'edge-client:arm64',
      'exit-server:amd64',
      'sample-app:amd64',
      'sample-app:arm64',
    ]);
  });
});
