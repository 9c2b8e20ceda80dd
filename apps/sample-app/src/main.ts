import { loadConfigOrExit, sampleAppSchema } from '@tunnel/config';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { pino } from 'pino';
import { buildApp } from './app.ts';
import { listeningUrl } from './listening-url.ts';
import { closeOnSignals } from './shutdown.ts';

// Enough for ordinary requests to drain; long /sse or /slow requests are cut after it.
const SHUTDOWN_GRACE_MS = 10_000;

const config = loadConfigOrExit(sampleAppSchema, process.argv.slice(2), process.env);
const name = config.name ?? hostname();
// Logs go to stderr so stdout carries only the "listening" line that scripts and tests wait for.
const logger = pino({ name: 'sample-app', level: config.logLevel }, pino.destination(2));

const app = await buildApp({ name, logger });
closeOnSignals(app, { graceMs: SHUTDOWN_GRACE_MS });
await app.listen({ host: config.bind, port: config.port });
process.stdout.write(`sample-app ${name} listening on ${listeningUrl(app.server.address() as AddressInfo)}\n`);
