import { describe, expect, it } from 'vitest';
import { exitServerSchema } from '@tunnel/config';
import { WELCOME_LIMIT_BOUNDS } from '@tunnel/tunnel-protocol';

// Edge clients refuse a welcome outside WELCOME_LIMIT_BOUNDS: every value an operator can give
// this server must fall inside them, or a valid configuration would lock every client out.
describe('the welcome limits an exit server can be configured with', () => {
  it.each([
    ['maxFrameBytes', 'maxFrameBytes'],
    ['maxHeaderBytes', 'maxHeaderBytes'],
    ['streamWindow', 'streamWindow'],
    ['maxStreamsPerClient', 'maxStreams'],
  ] as const)('--%s lies within the bounds edge clients accept for %s', (option, limit) => {
    const spec = exitServerSchema.options[option];
    expect(spec.min).toBeGreaterThanOrEqual(WELCOME_LIMIT_BOUNDS[limit].min);
    expect(spec.max).toBeLessThanOrEqual(WELCOME_LIMIT_BOUNDS[limit].max);
  });
});
