// Process entry for `ses-relay start`: load the configuration, start the roles, stop cleanly on
// SIGTERM/SIGINT. A second signal, or a shutdown that overruns its budget, exits at once.
import { createApp, type App, type AppDependencies } from './app.js';
import { loadConfig, type Config } from './config/index.js';
import { errorMessage } from './shared/errors.js';
import { createLogger, flushAndExit } from './shared/logger.js';

/** Extra time over SHUTDOWN_TIMEOUT for the worker and Redis to finish before the process is ended. */
const SHUTDOWN_MARGIN_MS = 15_000;

export async function runGateway(config: Config, deps: Omit<AppDependencies, 'logger'> = {}): Promise<App> {
  const logger = createLogger(config.LOG_LEVEL);
  const app = createApp(config, { ...deps, logger });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'app.forced_exit');
      flushAndExit(logger, 1);
    }
    stopping = true;
    logger.info({ signal }, 'app.signal');
    setTimeout(() => {
      logger.error('app.shutdown_overrun');
      flushAndExit(logger, 1);
    }, config.SHUTDOWN_TIMEOUT + SHUTDOWN_MARGIN_MS).unref();
    app.stop().then(
      () => flushAndExit(logger, 0),
      (err: unknown) => {
        logger.error({ err: errorMessage(err) }, 'app.stop_failed');
        flushAndExit(logger, 1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // SIGHUP re-reads the SMTP users file and the TLS certificate without dropping connections.
  process.on('SIGHUP', () => {
    app.reload().catch((err: unknown) => logger.error({ err: errorMessage(err) }, 'app.reload_failed'));
  });
  process.on('unhandledRejection', (reason) => {
    logger.fatal({ err: errorMessage(reason) }, 'process.unhandled_rejection');
    flushAndExit(logger, 1);
  });
  process.on('uncaughtException', (err) => {
    logger.fatal({ err: err.message, stack: err.stack }, 'process.uncaught_exception');
    flushAndExit(logger, 1);
  });

  try {
    await app.start();
  } catch (err) {
    logger.fatal({ err: errorMessage(err) }, 'app.start_failed');
    await app.stop().catch(() => undefined);
    flushAndExit(logger, 1);
  }
  return app;
}

export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    process.stderr.write(`ses-relay: ${errorMessage(err)}\n`);
    process.exit(2);
  }
}
