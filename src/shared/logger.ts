// The root pino logger. Child loggers carry context (sid, queueId, sesMessageId); events are stable
// dotted names: log.info({ queueId }, 'smtp.accepted').
import { pino, type Logger, type LevelWithSilent, type DestinationStream } from 'pino';
import { SECRET_KEYS } from '../config/secret-keys.js';

export type { Logger };

/**
 * Fields that never reach a log line, at any of the top three levels of a logged object
 * (`{ password }`, `{ config: { ADMIN_TOKEN } }`, `{ req: { headers: { authorization } } }`), and
 * message bytes (`raw`). A backstop: call sites log no secret in the first place, and
 * test/integration/secrets-leak.test.ts drives a whole gateway to check that they do not.
 */
export const REDACTED_FIELDS: ReadonlySet<string> = new Set([
  'password',
  'passwordHash',
  'authorization',
  'cookie',
  'token',
  'secretAccessKey',
  'sessionToken',
  'hashKey',
  'credentials',
  'raw',
  ...SECRET_KEYS,
]);

const CENSOR = '[redacted]';
const SCRUB_DEPTH = 3;

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

function holdsSecret(value: Record<string, unknown>, depth: number): boolean {
  for (const key in value) {
    if (REDACTED_FIELDS.has(key)) return true;
    const inner = value[key];
    if (depth > 1 && isPlainRecord(inner) && holdsSecret(inner, depth - 1)) return true;
  }
  return false;
}

function censored(value: Record<string, unknown>, depth: number): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const key in value) {
    const inner = value[key];
    copy[key] = REDACTED_FIELDS.has(key)
      ? CENSOR
      : depth > 1 && isPlainRecord(inner) && holdsSecret(inner, depth - 1)
        ? censored(inner, depth - 1)
        : inner;
  }
  return copy;
}

/**
 * Returns the object unchanged when it holds no secret field (the common case, checked without
 * copying), else a copy with those fields censored. Errors keep their prototype (pino's serializer
 * reads them) unless they carry a secret field themselves.
 */
export function scrubSecrets(value: Record<string, unknown>): Record<string, unknown> {
  return holdsSecret(value, SCRUB_DEPTH) ? censored(value, SCRUB_DEPTH) : value;
}

export function createLogger(level: LevelWithSilent, destination?: DestinationStream): Logger {
  const logger = pino(
    {
      level,
      base: { service: 'ses-relay' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // A key-set scan instead of pino's path-based redact: the same fields, at a fifth of the cost
      // per line (logging was 17 % of the CPU per accepted message with path redaction).
      formatters: {
        level: (label) => ({ level: label }),
        log: scrubSecrets,
        bindings: scrubSecrets,
      },
    },
    // Asynchronous writes: lines logged while a write is in flight leave together in the next one,
    // so one line per message does not cost one syscall per message under load. pino flushes the
    // rest synchronously when the process exits.
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
  // pino applies formatters.bindings to the base bindings only; a child's bindings are scrubbed
  // here. Children are created from their parent's prototype, so every descendant inherits this.
  const proto = Object.getPrototypeOf(logger) as Pick<Logger, 'child'>;
  logger.child = function (this: Logger, bindings, options) {
    return proto.child.call(this, scrubSecrets(bindings), options);
  } as Logger['child'];
  return logger;
}

/** Writes out buffered log lines, then exits. */
export function flushAndExit(logger: Logger, code: number): never {
  try {
    logger.flush();
  } finally {
    process.exit(code);
  }
}
