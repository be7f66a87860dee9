// The shortest value each duration setting can work with, and why: below it the setting can never
// be right, most often a bare number meant as seconds (a bare number is milliseconds). The tests run
// some settings close to their floors for speed (200 ms retries, a 1 s queue lifetime), so no floor
// is above what a test needs. Settings used as a timer's delay also have a ceiling (TIMER_CEILING).
import { parseDurationMs } from './parsers.js';

export interface DurationFloor {
  ms: number;
  message: string;
}

export type DurationCeiling = DurationFloor;

const atLeast = (shortest: string, why: string): DurationFloor => ({
  ms: parseDurationMs(shortest) ?? Number.NaN,
  message: `expected at least ${shortest}: ${why}`,
});

export const DURATION_FLOORS = {
  SMTP_SOCKET_TIMEOUT: atLeast(
    '1s',
    'a shorter idle timeout closes sessions before the greeting (sent after 100 ms) or mid-command',
  ),
  SMTP_MAX_SESSION_TIME: atLeast(
    '1s',
    'sessions are checked against it once a second, and none could finish a transaction in less',
  ),
  SMTP_AUTH_FAILURE_WINDOW: atLeast('1s', 'failures counted over less than that never add up to a cool-down'),
  SMTP_AUTH_COOLDOWN: atLeast('1s', 'a shorter cool-down does not slow down password guessing'),
  SMTP_INTAKE_TIMEOUT: atLeast(
    '100ms',
    'writing a message to Redis takes longer than that under load, and each slower write answers 451',
  ),
  REDIS_COMMAND_TIMEOUT: atLeast(
    '100ms',
    'a round trip to Redis under load takes longer than that, and each slower one fails the command',
  ),
  REDIS_WAIT_TIMEOUT: atLeast(
    '10ms',
    'replicas acknowledge over the network (and 0 makes Redis WAIT forever)',
  ),
  SES_REQUEST_TIMEOUT: atLeast(
    '500ms',
    'an SES call (a TLS handshake and up to 40 MB) takes longer, and a call abandoned after SES took it is sent again',
  ),
  SES_ACCOUNT_REFRESH: atLeast(
    '100ms',
    'each worker calls GetAccount this often, and SES limits how often it may be called',
  ),
  SES_PAUSE_PROBE_INTERVAL: atLeast(
    '100ms',
    'each probe calls GetAccount, and SES limits how often it may be called',
  ),
  WORKER_LOCK_DURATION: atLeast(
    '5s',
    "BullMQ renews the lock at half this; shorter, a pause of the worker's event loop (a large message, garbage collection) lets it lapse and another worker sends the message again",
  ),
  WORKER_STALLED_INTERVAL: atLeast(
    '1s',
    'every worker runs the check, a Redis script over all active jobs, this often',
  ),
  SEND_RETRY_BASE: atLeast('10ms', 'a failing message would call SES again at once'),
  SEND_RETRY_MAX: atLeast(
    '100ms',
    'through a long SES outage each waiting message would call SES more than ten times a second',
  ),
  QUEUE_MAX_AGE: atLeast('1s', 'a message would expire before its first SES call could be retried'),
  COMPLETED_JOB_RETENTION: atLeast('1m', 'a delivered job would be gone before anyone could look it up'),
  FAILED_JOB_RETENTION: atLeast(
    '1m',
    'a failed message and its evidence would be gone before anyone could look, and its DSN could be sent twice',
  ),
  TRACE_RETENTION: atLeast('1m', "a message's timeline would be gone before its SES events arrive"),
  SOFT_BOUNCE_WINDOW: atLeast(
    '1m',
    'soft bounces arrive minutes to days apart and would never add up to SOFT_BOUNCE_LIMIT',
  ),
  SOFT_BOUNCE_SUPPRESS_FOR: atLeast(
    '1m',
    'a shorter suppression lifts before the next message to the address is even sent',
  ),
  REPUTATION_WINDOW: atLeast(
    '1d',
    'the rates are kept per day, so a shorter window would be read as one day',
  ),
  REPUTATION_CHECK_INTERVAL: atLeast('100ms', 'each check reads the day statistics from Redis'),
  SNS_DEDUPE_WINDOW: atLeast(
    '1h',
    'SNS retries a failed delivery for up to an hour, and a retry older than this window is refused as stale (400), which SNS does not retry',
  ),
  SHUTDOWN_TIMEOUT: atLeast('1s', 'SIGTERM would cut off SMTP transactions and SES calls in progress'),
} satisfies Record<string, DurationFloor>;

/**
 * The longest delay of a setting used as a timer's: Node's setTimeout and setInterval (and socket
 * timeouts) hold at most 2^31−1 ms, about 24.8 days, and run a longer delay after 1 ms instead, so
 * SES_ACCOUNT_REFRESH=30d would call GetAccount a thousand times a second. A whole number of days
 * below that, with room for what is added to a setting before it is used (main.ts waits
 * SHUTDOWN_TIMEOUT + 15 s). Settings used only as Redis TTLs or BullMQ delays have no ceiling.
 */
export const TIMER_CEILING: DurationCeiling = {
  ms: parseDurationMs('24d') ?? Number.NaN,
  message: 'expected at most 24d: Node fires a timer set longer than about 24.8 days after 1 ms instead',
};

/** For a bare number: its unit, and the same number in seconds when that would be long enough. */
export function bareNumberHint(value: string, minMs: number): string {
  const number = value.trim();
  if (!/^\d+(\.\d+)?$/.test(number) || Number(number) === 0) return '';
  const asSeconds = Number(number) * 1000 >= minMs ? `; write ${number}s for seconds` : '';
  return ` (a bare number is milliseconds${asSeconds})`;
}
