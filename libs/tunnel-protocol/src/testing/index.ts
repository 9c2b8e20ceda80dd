export * from './pair.ts';
export * from './borrowed.ts';
