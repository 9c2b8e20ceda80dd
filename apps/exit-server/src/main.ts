import pino from 'pino';
import { ConfigError, exitServerSchema, loadConfigOrExit } from '@tunnel/config';
import { readStickySecret } from './balance/sticky-secret.ts';
import { startExitServer } from './server.ts';

const config = loadConfigOrExit(exitServerSchema, process.argv.slice(2), process.env);
let stickySecret: Buffer | undefined;
try {
  stickySecret = readStickySecret(config, process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`exit-server: ${err.message}\nRun 'exit-server --help' for usage.\n`);
  process.exit(err.exitCode);
}
const logger = pino({ level: config.logLevel, base: { app: 'exit-server' } });
const server = await startExitServer(config, logger, { stickySecret }).catch((err: Error) => {
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
