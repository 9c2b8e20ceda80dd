import { inject } from 'vitest';
import type { Images } from './docker.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Set when Docker (or the images) cannot be had: every test fails with this message. */
    dockerError: string;
    /** Image tags by `<app>:<arch>`. */
    images: Images;
    /** Process id of the vitest main process: owner label and name part of everything created. */
    owner: number;
  }
}

/** What the global setup prepared; throws (failing the test) when Docker is missing. */
export function suiteContext(): { images: Images; owner: number } {
  const problem = inject('dockerError');
  if (problem) throw new Error(problem);
  return { images: inject('images'), owner: inject('owner') };
}
