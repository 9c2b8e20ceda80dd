export * from './pair.ts';
export * from './borrowed.ts';
export * from './mutate.ts';
