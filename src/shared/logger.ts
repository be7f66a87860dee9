// The root pino logger. Child loggers carry context (sid, queueId, sesMessageId); events are stable
// dotted names: log.info({ queueId }, 'smtp.accepted').
import { pino, type Logger, type LevelWithSilent, type DestinationStream } from 'pino';

export type { Logger };

/** Configuration keys that hold secrets: config/schema.ts SECRET_KEYS (a test keeps the two in step). */
const SECRET_CONFIG_KEYS = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'ADMIN_TOKEN',
  'ADMIN_PASSWORD',
  'METRICS_TOKEN',
  'SUPPRESSION_HASH_KEY',
];

/**
 * Fields that never reach a log line, at the top level and one level down (`{ config }`,
 * `{ headers }`, `{ credentials }`). A backstop: call sites log no secret in the first place, and
 * test/integration/secrets-leak.test.ts drives a whole gateway to check that they do not.
 */
const SECRET_FIELDS = [
  'password',
  'passwordHash',
  'authorization',
  'cookie',
  'token',
  'secretAccessKey',
  'sessionToken',
  'hashKey',
  'credentials',
  ...SECRET_CONFIG_KEYS,
];

export const REDACT_PATHS = [
  ...SECRET_FIELDS.flatMap((field) => [field, `*.${field}`]),
  'req.headers.authorization',
  'req.headers.cookie',
  'raw',
  '*.raw',
];

export function createLogger(level: LevelWithSilent, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'ses-relay' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    // Asynchronous writes: lines logged while a write is in flight leave together in the next one,
    // so one line per message does not cost one syscall per message under load. pino flushes the
    // rest synchronously when the process exits.
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/** Writes out buffered log lines, then exits. */
export function flushAndExit(logger: Logger, code: number): never {
  try {
    logger.flush();
  } finally {
    process.exit(code);
  }
}
