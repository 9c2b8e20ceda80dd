import { drainOnSignals, edgeClientSchema, loadConfigOrExit } from '@tunnel/config';
import { accessLogger, startMetricsServer, stdoutLogger, type MetricsServer } from '@tunnel/observability';
import { EdgeClient } from './edge-client.ts';
import { trackHealthFile } from './health-file.ts';

const config = loadConfigOrExit(edgeClientSchema, process.argv.slice(2), process.env);
const tty = process.stdout.isTTY === true;
const logger = stdoutLogger({ app: 'edge-client', level: config.logLevel, tty });
let accessLog;
try {
  accessLog = accessLogger(config.accessLog, { app: 'edge-client', tty });
} catch (err) {
  logger.fatal({ err: (err as Error).message }, `--access-log ${config.accessLog} cannot be opened`);
  process.exit(1);
}
const client = new EdgeClient(config, logger, { accessLog, processMetrics: true });
if (config.healthFile !== undefined) trackHealthFile(client, config.healthFile);
let metricsServer: MetricsServer | undefined;
if (config.metricsBind) {
  metricsServer = await startMetricsServer(client.metrics.registry, config.metricsBind).catch((err: Error) => {
    logger.fatal({ err: err.message, bind: config.metricsBind }, 'edge client metrics cannot listen (--metrics-bind)');
    process.exit(1);
  });
  logger.info({ metricsPort: metricsServer.port, host: config.metricsBind.host }, 'edge client metrics listening');
}
client.start();

drainOnSignals({
  log: logger,
  drain: async () => {
    await client.stop();
    await metricsServer?.close();
    await new Promise<void>((resolve) => (accessLog ? accessLog.flush(() => resolve()) : resolve()));
  },
});
