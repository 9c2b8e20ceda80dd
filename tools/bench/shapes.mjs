// The request shapes the benchmark measures, shared by the upstream and the orchestrator.

/** Body size of GET /small (a JSON document). */
export const SMALL_BYTES = 99;
/** Body size of GET /big (1 MiB). */
export const BIG_BYTES = 1024 * 1024;

/**
 * One load shape: which path, how many concurrent connections, and the figure it is judged by
 * (`headline`, also the one compared against DIRECT).
 */
export const SHAPES = [
  { name: 'small', path: '/small', connections: 100, bodyBytes: SMALL_BYTES, headline: 'reqPerSec' },
  { name: 'big', path: '/big', connections: 10, bodyBytes: BIG_BYTES, headline: 'mbPerSec' },
];
