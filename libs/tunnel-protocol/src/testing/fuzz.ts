import fc from 'fast-check';

/** 10,000 cases per property (the bar); inputs stay small so a suite takes seconds. */
export const FUZZ_RUNS = { numRuns: 10_000 };

/** Timeout of one fuzz property, ms. Generous: 10,000 cases take a few seconds, more on a loaded machine; a hang still fails. */
export const FUZZ_TIMEOUT_MS = 120_000;

/** Random byte strings of up to 300 bytes. */
export const anyBytesArb = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));

/** Runs `fn`; anything it throws must be a `type` (the protocol's typed errors), else it is rethrown and fails the property. */
export function onlyThrows(type: abstract new (...args: never[]) => Error, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof type)) throw err;
  }
}
