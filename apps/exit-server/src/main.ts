import { drainOnSignals, exitServerSchema, exitServerStatusSchema, loadConfigOrExit } from '@tunnel/config';
import { accessLogger, stdoutLogger } from '@tunnel/observability';
import { startExitServer } from './server.ts';
import { runStatus } from './status/status-command.ts';

// `exit-server status ...`: print a running server's clients and exit (see status-command.ts).
if (process.argv[2] === 'status') {
  const statusConfig = loadConfigOrExit(exitServerStatusSchema, process.argv.slice(3), process.env);
  process.exit(await runStatus(statusConfig, { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }));
}

const config = loadConfigOrExit(exitServerSchema, process.argv.slice(2), process.env);
const tty = process.stdout.isTTY === true;
const logger = stdoutLogger({ app: 'exit-server', level: config.logLevel, tty });
let accessLog;
try {
  accessLog = accessLogger(config.accessLog, { app: 'exit-server', tty });
} catch (err) {
  logger.fatal({ err: (err as Error).message }, `--access-log ${config.accessLog} cannot be opened`);
  process.exit(1);
}
const server = await startExitServer(config, logger, { accessLog, processMetrics: true }).catch((err: Error) => {
  logger.fatal({ err: err.message }, 'exit server failed to start');
  process.exit(1);
});

// SIGHUP: re-read the token files now (they are also watched), e.g. right after a rotation step.
process.on('SIGHUP', () => server.reloadTokens());

drainOnSignals({
  log: logger,
  drain: async () => {
    await server.close();
    await new Promise<void>((resolve) => (accessLog ? accessLog.flush(() => resolve()) : resolve()));
  },
});
