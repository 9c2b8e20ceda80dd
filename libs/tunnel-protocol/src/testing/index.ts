export { createTransportPair, type PairOptions, type TestTransport } from './pair.ts';
export { detachedStream, feedBorrowed, splitAt } from './borrowed.ts';
export { cutsArb, mutated } from './mutate.ts';
export { anyBytesArb, FUZZ_RUNS, FUZZ_TIMEOUT_MS, onlyThrows } from './fuzz.ts';
export { realClock } from './real-clock.ts';
export { ManualClock } from './manual-clock.ts';
