const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * Options of the pooled read buffers the tunnel's connection reads into (exit server and edge
 * client alike): sizes in bytes.
 */
export const READ_BUFFER_OPTIONS = {
  /** Size of one pooled read buffer, bytes; 0 reads as node does (a fresh buffer per read). */
  readBuffer: {
    kind: 'bytes',
    min: 0,
    max: 16 * MiB,
    default: 1 * MiB,
    description: 'size of the reusable buffers a busy tunnel connection reads into (no copy per read); 0 = a fresh buffer per read',
  },
  /** Most bytes of pooled read buffers alive at once, bytes. */
  readPoolMax: {
    kind: 'bytes',
    min: 1 * MiB,
    max: 4096 * MiB,
    default: 64 * MiB,
    description: 'most memory the pooled read buffers may take; past it, reads are copied',
  },
  /** Test aid: overwrite each pooled read buffer as it returns to the pool. */
  poisonReadBuffers: {
    kind: 'boolean',
    default: false,
    description: 'test aid: overwrite each pooled read buffer as it returns to the pool, so a missed lease corrupts data visibly',
  },
} as const;
