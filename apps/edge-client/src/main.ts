import pino from 'pino';
import { edgeClientSchema, loadConfigOrExit } from '@tunnel/config';
import { EdgeClient } from './edge-client.ts';

const config = loadConfigOrExit(edgeClientSchema, process.argv.slice(2), process.env);
const logger = pino({ level: config.logLevel, base: { app: 'edge-client' } });
const client = new EdgeClient(config, logger);
client.start();

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'draining');
    void client.stop().then(() => process.exit(0));
  });
}
