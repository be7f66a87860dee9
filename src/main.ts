// Process entry for `ses-relay start`: load the configuration, start the roles, stop cleanly on
// SIGTERM/SIGINT. A second signal, or a shutdown that overruns its budget, exits at once. With
// SMTP_PROCESSES > 1 the smtp role runs in child processes (roles/smtp-processes.ts): the primary
// starts them and stops them first; a child takes its orders from the primary.
import fs from 'node:fs';
import { pino, type DestinationStream } from 'pino';
import { createApp, type App, type AppDependencies } from './app.js';
import { warnUnknownSettings } from './cli/runtime.js';
import { packageVersion } from './cli/version.js';
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

export interface GatewayOptions {
  /**
   * SIGHUP stops the process (as SIGTERM does) instead of re-reading files: for the demo, which
   * runs in a terminal, so that closing the terminal ends it rather than leaving it holding its ports.
   */
  stopOnHangup?: boolean;
}

export interface LoadedConfig {
  config: Config;
  /** Names that look like settings but are not (typos); logged as warnings at start-up. */
  unknown: ReturnType<typeof unknownSettings>;
}

export async function runGateway(
  config: Config,
  deps: Omit<AppDependencies, 'logger'> = {},
  unknown: LoadedConfig['unknown'] = [],
  options: GatewayOptions = {},
): Promise<App> {
  applyRuntimeV8Flags();
  const childIndex = smtpChildIndex();
  const root = createLogger(config.LOG_LEVEL, logDestination());
  const logger = childIndex === undefined ? root : root.child({ smtpProcess: childIndex });
  const split = childIndex === undefined && config.SMTP_PROCESSES > 1 && config.ROLES.includes('smtp');
  let processes: SmtpProcesses | undefined;
  const app = createApp(
    split ? { ...config, ROLES: config.ROLES.filter((role) => role !== 'smtp') } : config,
    {
      ...deps,
      logger,
      version: installedVersion(),
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
  // SIGHUP re-reads the SMTP users file and the TLS certificate without dropping connections (the
  // demo: stops, see GatewayOptions).
  process.on('SIGHUP', () => {
    if (childIndex !== undefined) return;
    if (options.stopOnHangup) shutdown('SIGHUP');
    else reload();
  });
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
  // Either is a fault in the gateway: its stack is what finds it.
  process.on('unhandledRejection', (reason) => {
    logger.fatal({ err: errorMessage(reason), stack: stackOf(reason) }, 'process.unhandled_rejection');
    flushAndExit(logger, 1);
  });
  process.on('uncaughtException', (err: unknown) => {
    logger.fatal({ err: errorMessage(err), stack: stackOf(err) }, 'process.uncaught_exception');
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
    // Also as plain text: a port already in use is a newcomer's first failure, and one JSON line
    // among the start-up warnings is easy to miss.
    process.stderr.write(`ses-relay: start-up failed: ${errorMessage(err)}\n`);
    await processes?.stop(5000).catch(() => undefined);
    await app.stop().catch(() => undefined);
    // A file the configuration names (certificate, users file) is missing or bad: exit 2, as for
    // any bad value.
    flushAndExit(logger, err instanceof RelayError && err.code === 'CONFIG_INVALID' ? 2 : 1);
  }
  return app;
}

function stackOf(thrown: unknown): string | undefined {
  return thrown instanceof Error ? thrown.stack : undefined;
}

/** package.json's version, for the app.started line; undefined where it cannot be read. */
function installedVersion(): string | undefined {
  try {
    return packageVersion();
  } catch {
    return undefined;
  }
}

/**
 * Where the log lines go: stdout, written asynchronously. A stdout that can no longer be written (a
 * closed terminal: EIO; a full disk: ENOSPC) ends the logging, not the gateway, which says so once
 * on stderr. Left alone, the error would end the process, and pino's final synchronous flush
 * retries a failing write for ever: the process would hang, holding its ports, deaf to SIGTERM.
 * (pino already treats a closed pipe, EPIPE, this way.)
 */
function logDestination(): DestinationStream {
  const destination = pino.destination({ dest: 1, sync: false });
  let failed = false;
  destination.on('error', (err: NodeJS.ErrnoException) => {
    if (failed) return;
    failed = true;
    destination.write = () => true;
    destination.flush = (done?: (err?: Error) => unknown) => void done?.();
    destination.flushSync = () => undefined;
    destination.end = () => undefined;
    try {
      fs.writeSync(
        2,
        `ses-relay: log lines cannot be written to stdout (${err.code ?? err.message}); logging stopped, the gateway runs on\n`,
      );
    } catch {
      // stderr is gone as well
    }
  });
  return destination;
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
