// Process entry for `ses-relay start`: load the configuration, start the roles, stop cleanly on
// SIGTERM/SIGINT. A second signal, or a shutdown that overruns its budget, exits at once. With
// SMTP_PROCESSES > 1 the smtp role runs in child processes (roles/smtp-processes.ts): the primary
// starts them and stops them first; a child takes its orders from the primary.
import { createApp, type App, type AppDependencies } from './app.js';
import { warnUnknownSettings } from './cli/runtime.js';
import {
  loadEnvironment,
  parseConfig,
  settingFileProblems,
  unknownSettings,
  type Config,
  type EnvInput,
} from './config/index.js';
import { RelayError, errorMessage } from './shared/errors.js';
import { createLogger, flushAndExit } from './shared/logger.js';
import { applyRuntimeV8Flags, missingNodeFlags } from './shared/node-flags.js';
import {
  serveSmtpChild,
  smtpChildIndex,
  startSmtpProcesses,
  type SmtpProcesses,
} from './roles/smtp-processes.js';

/** Extra time over SHUTDOWN_TIMEOUT for the worker and Redis to finish before the process is ended. */
const SHUTDOWN_MARGIN_MS = 15_000;

export interface LoadedConfig {
  config: Config;
  /** Names that look like settings but are not (typos); logged as warnings at start-up. */
  unknown: ReturnType<typeof unknownSettings>;
}

export async function runGateway(
  config: Config,
  deps: Omit<AppDependencies, 'logger'> = {},
  unknown: LoadedConfig['unknown'] = [],
): Promise<App> {
  applyRuntimeV8Flags();
  const childIndex = smtpChildIndex();
  const root = createLogger(config.LOG_LEVEL);
  const logger = childIndex === undefined ? root : root.child({ smtpProcess: childIndex });
  const split = childIndex === undefined && config.SMTP_PROCESSES > 1 && config.ROLES.includes('smtp');
  let processes: SmtpProcesses | undefined;
  const app = createApp(
    split ? { ...config, ROLES: config.ROLES.filter((role) => role !== 'smtp') } : config,
    {
      ...deps,
      logger,
      // The app stopped itself (a Redis it refuses, found after start-up): a failure, not a clean stop.
      onFatal: () => {
        void (processes?.stop(config.SHUTDOWN_TIMEOUT) ?? Promise.resolve())
          .catch(() => undefined)
          .then(() => flushAndExit(logger, 1));
      },
    },
  );
  if (childIndex === undefined) {
    for (const { name, suggestion } of unknown) {
      logger.warn({ name, ...(suggestion ? { suggestion } : {}) }, 'config.unknown_setting');
    }
  }
  const missing = missingNodeFlags();
  if (childIndex === undefined && missing.length > 0) {
    // See shared/node-flags.ts: the gateway runs, but spends 15–30 % more CPU per message.
    logger.info(
      { missing, hint: `start node with ${missing.join(' ')} (as npm start does) or set it in NODE_OPTIONS` },
      'app.node_flags_missing',
    );
  }

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'app.forced_exit');
      flushAndExit(logger, 1);
    }
    stopping = true;
    logger.info({ signal }, 'app.signal');
    // /readyz turns 503 now, while the SMTP processes drain, not only once app.stop() runs.
    app.drain();
    setTimeout(() => {
      logger.error('app.shutdown_overrun');
      flushAndExit(logger, 1);
    }, config.SHUTDOWN_TIMEOUT + SHUTDOWN_MARGIN_MS).unref();
    // SMTP first (no new mail), as app.stop() does within one process.
    (processes?.stop(config.SHUTDOWN_TIMEOUT + SHUTDOWN_MARGIN_MS / 2) ?? Promise.resolve())
      .then(() => app.stop())
      .then(
        () => flushAndExit(logger, 0),
        (err: unknown) => {
          logger.error({ err: errorMessage(err) }, 'app.stop_failed');
          flushAndExit(logger, 1);
        },
      );
  };
  const reload = () => {
    processes?.reload();
    app.reload().catch((err: unknown) => logger.error({ err: errorMessage(err) }, 'app.reload_failed'));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // A terminal's Ctrl-C reaches every process of the group; a child leaves the decision to the primary.
  process.on('SIGINT', () => (childIndex === undefined ? shutdown('SIGINT') : undefined));
  // SIGHUP re-reads the SMTP users file and the TLS certificate without dropping connections.
  process.on('SIGHUP', () => (childIndex === undefined ? reload() : undefined));
  const child =
    childIndex === undefined
      ? undefined
      : serveSmtpChild({
          stop: () => {
            if (!stopping) shutdown('primary');
          },
          reload,
          metrics: () => app.metrics.registry.getMetricsAsJSON(),
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
    if (split) {
      processes = await startSmtpProcesses(config.SMTP_PROCESSES, logger);
      app.metrics.addRemote(() => processes!.metrics());
      const running = processes;
      // One child down still leaves the port served by the others; none means nothing answers it.
      app.addReadinessCheck(() =>
        running.running() === 0 ? `smtp processes: 0 of ${config.SMTP_PROCESSES} running` : undefined,
      );
    }
    await app.start();
    child?.ready();
  } catch (err) {
    logger.fatal({ err: errorMessage(err) }, 'app.start_failed');
    await processes?.stop(5000).catch(() => undefined);
    await app.stop().catch(() => undefined);
    // A file the configuration names (certificate, users file) is missing or bad: exit 2, as for
    // any bad value.
    flushAndExit(logger, err instanceof RelayError && err.code === 'CONFIG_INVALID' ? 2 : 1);
  }
  return app;
}

/**
 * The configuration of a gateway process (`ses-relay start`, the demo), or exit code 2 with every
 * problem, the files its roles cannot read included. The names that are not settings are found
 * first: a refusal names them too, since a typo (ADMIN_PASWORD) is often what made it.
 */
export function loadConfigOrExit(overrides: EnvInput = {}): LoadedConfig {
  const { env, fileProblems } = loadEnvironment(overrides);
  const unknown = unknownSettings(env);
  try {
    return { config: parseConfig(env, [...fileProblems, ...settingFileProblems(env)]), unknown };
  } catch (err) {
    warnUnknownSettings(unknown);
    process.stderr.write(`ses-relay: ${errorMessage(err)}\n`);
    process.exit(2);
  }
}
