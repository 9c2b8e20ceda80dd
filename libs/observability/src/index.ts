export * from './series.ts';
export * from './counter-family.ts';
export * from './histogram-family.ts';
export * from './metrics-server.ts';
export * from './exposition.ts';
export * from './request-id.ts';
export * from './access-log.ts';
export { Registry, Gauge, collectDefaultMetrics } from 'prom-client';
export * from './registered.ts';
