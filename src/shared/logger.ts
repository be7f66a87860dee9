// The root pino logger. Child loggers carry context (sid, queueId, sesMessageId); events are stable
// dotted names: log.info({ queueId }, 'smtp.accepted').
import { pino, type Logger, type LevelWithSilent, type DestinationStream } from 'pino';

export type { Logger };

const REDACT_PATHS = [
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'headers.authorization',
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
