import pino from 'pino';
import { exitServerSchema, loadConfigOrExit } from '@tunnel/config';
import { startExitServer } from './server.ts';

const config = loadConfigOrExit(exitServerSchema, process.argv.slice(2), process.env);
const logger = pino({ level: config.logLevel, base: { app: 'exit-server' } });
const server = await startExitServer(config, logger).catch((err: Error) => {
  logger.fatal({ err: err.message }, 'exit server failed to start');
  process.exit(1);
});

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'draining');
    void server.close().then(() => process.exit(0));
  });
}
