import { describe, expect, it } from 'vitest';
import { problemsOf } from '../helpers/config-problems.js';
import { parseConfig, type Config } from '../../src/config/index.js';

// Each duration's floor: a value below it, the floor itself, and what the floor needs besides.
const FLOORS: [string, string, string, Record<string, string>?][] = [
  ['SMTP_SOCKET_TIMEOUT', '999ms', '1s'],
  ['SMTP_MAX_SESSION_TIME', '999ms', '1s'],
  ['SMTP_AUTH_FAILURE_WINDOW', '999ms', '1s'],
  ['SMTP_AUTH_COOLDOWN', '999ms', '1s'],
  ['SMTP_INTAKE_TIMEOUT', '99ms', '100ms'],
  ['REDIS_WAIT_TIMEOUT', '9ms', '10ms'],
  ['REDIS_COMMAND_TIMEOUT', '99ms', '100ms'],
  ['SES_REQUEST_TIMEOUT', '499ms', '500ms'],
  ['SES_ACCOUNT_REFRESH', '99ms', '100ms'],
  ['SES_PAUSE_PROBE_INTERVAL', '99ms', '100ms'],
  ['WORKER_LOCK_DURATION', '4999ms', '5s'],
  ['WORKER_STALLED_INTERVAL', '999ms', '1s'],
  ['SEND_RETRY_BASE', '9ms', '10ms'],
  ['SEND_RETRY_MAX', '99ms', '100ms', { SEND_RETRY_BASE: '10ms' }],
  ['QUEUE_MAX_AGE', '999ms', '1s', { SEND_RETRY_BASE: '100ms', SEND_RETRY_MAX: '1s' }],
  ['COMPLETED_JOB_RETENTION', '59s', '1m'],
  ['FAILED_JOB_RETENTION', '59s', '1m'],
  ['TRACE_RETENTION', '59s', '1m'],
  ['SOFT_BOUNCE_WINDOW', '59s', '1m'],
  ['SOFT_BOUNCE_SUPPRESS_FOR', '59s', '1m'],
  ['REPUTATION_WINDOW', '23h', '1d'],
  ['REPUTATION_CHECK_INTERVAL', '99ms', '100ms'],
  ['SNS_DEDUPE_WINDOW', '59m', '1h'],
  ['SHUTDOWN_TIMEOUT', '999ms', '1s'],
];

describe('duration floors', () => {
  it('refuses SMTP_SOCKET_TIMEOUT=60 (meant as seconds), saying why and how to write seconds', () => {
    const message = problemsOf({ SMTP_SOCKET_TIMEOUT: '60' });
    expect(message).toContain('SMTP_SOCKET_TIMEOUT: expected at least 1s');
    expect(message).toContain('(a bare number is milliseconds; write 60s for seconds) (got "60")');
  });

  it.each(FLOORS)('refuses %s=%s and takes %s', (key, below, floor, besides = {}) => {
    expect(problemsOf({ ...besides, [key]: below })).toMatch(
      new RegExp(`${key}: expected at least ${floor}: \\S`),
    );
    expect(() => parseConfig({ ...besides, [key]: floor })).not.toThrow();
  });

  it('suggests seconds only when that many seconds would be enough', () => {
    const message = problemsOf({ SNS_DEDUPE_WINDOW: '1800' });
    expect(message).toContain('(a bare number is milliseconds)');
    expect(message).not.toContain('write 1800s');
    // Nothing about bare numbers for a value that carries a unit.
    expect(problemsOf({ SMTP_SOCKET_TIMEOUT: '60ms' })).not.toContain('bare number');
  });

  it('still takes the defaults and the small values the tests use for speed', () => {
    expect(() => parseConfig({})).not.toThrow();
    const fast = {
      SMTP_SOCKET_TIMEOUT: '1s',
      SMTP_MAX_SESSION_TIME: '2s',
      SMTP_INTAKE_TIMEOUT: '1s',
      REDIS_WAIT_TIMEOUT: '200ms',
      SES_REQUEST_TIMEOUT: '700ms',
      SES_ACCOUNT_REFRESH: '200ms',
      SES_PAUSE_PROBE_INTERVAL: '300ms',
      REPUTATION_CHECK_INTERVAL: '200ms',
      WORKER_LOCK_DURATION: '5s',
      WORKER_STALLED_INTERVAL: '2s',
      SEND_RETRY_BASE: '20ms',
      SEND_RETRY_MAX: '200ms',
      QUEUE_MAX_AGE: '1s',
      SHUTDOWN_TIMEOUT: '5s',
    };
    expect(parseConfig(fast)).toMatchObject({ SEND_RETRY_BASE: 20, QUEUE_MAX_AGE: 1000 });
  });
});

// The settings used as a timer's delay: Node runs a delay above 2^31-1 ms (24.8 days) after 1 ms,
// so SES_ACCOUNT_REFRESH=30d would call GetAccount in a loop.
const TIMER_DELAYS = [
  'SMTP_SOCKET_TIMEOUT',
  'SMTP_INTAKE_TIMEOUT',
  'SES_REQUEST_TIMEOUT',
  'SES_ACCOUNT_REFRESH',
  'SES_PAUSE_PROBE_INTERVAL',
  'WORKER_LOCK_DURATION',
  'WORKER_STALLED_INTERVAL',
  'REPUTATION_CHECK_INTERVAL',
  'SHUTDOWN_TIMEOUT',
  'REDIS_COMMAND_TIMEOUT',
];

describe('duration ceilings', () => {
  it.each(TIMER_DELAYS)('refuses %s=30d, saying why, and takes 24d', (key) => {
    expect(problemsOf({ [key]: '30d' })).toMatch(
      new RegExp(`${key}: expected at most 24d: \\S.* \\(got "30d"\\)`),
    );
    expect(problemsOf({ [key]: '2147483648' })).toContain(`${key}: expected at most 24d`);
    expect(parseConfig({ [key]: '24d' })[key as keyof Config]).toBe(24 * 86_400_000);
  });

  it('leaves SHUTDOWN_TIMEOUT room for the 15 s main.ts adds before its timer', () => {
    expect(parseConfig({ SHUTDOWN_TIMEOUT: '24d' }).SHUTDOWN_TIMEOUT + 15_000).toBeLessThanOrEqual(
      2 ** 31 - 1,
    );
  });

  it('puts no ceiling on durations kept as Redis expiries and queue delays', () => {
    const long = {
      SEND_RETRY_MAX: '30d',
      QUEUE_MAX_AGE: '90d',
      COMPLETED_JOB_RETENTION: '60d',
      FAILED_JOB_RETENTION: '90d',
      TRACE_RETENTION: '90d',
      SOFT_BOUNCE_WINDOW: '60d',
      SOFT_BOUNCE_SUPPRESS_FOR: '365d',
      REPUTATION_WINDOW: '30d',
      SNS_DEDUPE_WINDOW: '30d',
    };
    expect(parseConfig(long)).toMatchObject({
      QUEUE_MAX_AGE: 90 * 86_400_000,
      SOFT_BOUNCE_SUPPRESS_FOR: 365 * 86_400_000,
    });
  });
});

describe('duration orders', () => {
  it('refuses a SEND_RETRY_BASE longer than SEND_RETRY_MAX', () => {
    expect(problemsOf({ SEND_RETRY_MAX: '900' })).toContain(
      'SEND_RETRY_MAX: SEND_RETRY_BASE (2s) is longer than SEND_RETRY_MAX (900ms)',
    );
    expect(parseConfig({ SEND_RETRY_BASE: '1s', SEND_RETRY_MAX: '1s' }).SEND_RETRY_MAX).toBe(1000);
  });

  it('refuses a SEND_RETRY_MAX longer than QUEUE_MAX_AGE (3 days written as bare seconds)', () => {
    expect(problemsOf({ QUEUE_MAX_AGE: '259200' })).toContain(
      'QUEUE_MAX_AGE: SEND_RETRY_MAX (15m) is longer than QUEUE_MAX_AGE (259.2s)',
    );
    expect(parseConfig({ QUEUE_MAX_AGE: '10m', SEND_RETRY_MAX: '5m' }).QUEUE_MAX_AGE).toBe(600_000);
  });
});

describe('the wait for replicas within the intake write', () => {
  it('refuses a REDIS_WAIT_TIMEOUT as long as SMTP_INTAKE_TIMEOUT when replicas are awaited', () => {
    expect(problemsOf({ REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT: '5s' })).toContain(
      'REDIS_WAIT_TIMEOUT: REDIS_WAIT_TIMEOUT (5s) must be shorter than SMTP_INTAKE_TIMEOUT (5s), which bounds the whole write',
    );
    expect(parseConfig({ REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT: '4s' }).REDIS_WAIT_TIMEOUT).toBe(4000);
    // Without replicas to wait for, the setting is not used.
    expect(parseConfig({ REDIS_WAIT_TIMEOUT: '10s' }).REDIS_WAIT_TIMEOUT).toBe(10_000);
  });
});

describe('paired settings', () => {
  it('are reported together with single-value problems, in one message', () => {
    const message = problemsOf({ SMTP_PORT: 'seventy', ADMIN_USER: 'ops', SEND_RETRY_BASE: '20m' });
    expect(message).toContain('SMTP_PORT: expected a whole number');
    expect(message).toContain('ADMIN_USER: ADMIN_USER and ADMIN_PASSWORD go together');
    expect(message).toContain('SEND_RETRY_MAX: SEND_RETRY_BASE (20m) is longer than SEND_RETRY_MAX (15m)');
  });

  it('are not checked on a setting that is itself refused', () => {
    const message = problemsOf({
      SMTP_TLS_PORT: '465.5',
      SMTP_TLS_PROXY_PROTOCOL: 'true',
      SMTP_PROXY_TRUSTED_NETWORKS: '10.0.0.0/8',
      SEND_RETRY_MAX: 'soon',
    });
    expect(message).toContain('SMTP_TLS_PORT: expected a port number');
    expect(message).not.toContain('needs SMTP_TLS_PORT');
    expect(message).not.toContain('is longer than');
  });
});
