// The configuration schema: every environment variable the gateway reads, its default and what it
// accepts. README's configuration table mirrors this file.
import os from 'node:os';
import { z } from 'zod';
import { hashTagOf } from '../shared/hash-tag.js';
import { redisUrlKind, redisUrlProblem } from '../shared/redis.js';
import { crossCheckProblems } from './cross-checks.js';
import {
  bareNumberHint,
  DURATION_FLOORS,
  TIMER_CEILING,
  type DurationCeiling,
  type DurationFloor,
} from './duration-floors.js';
import { parseBytes, parseCidr, parseDurationMs, splitList, type Cidr } from './parsers.js';
import { senderEntry } from './sender-entries.js';

/** SES v2 refuses messages over 40 MB; the gateway never accepts more than it can hand over. */
export const SES_MAX_MESSAGE_BYTES = 40_000_000;

export const ROLE_NAMES = ['smtp', 'worker', 'http'] as const;
export type Role = (typeof ROLE_NAMES)[number];

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * An empty value means the default, as if the variable were not set (compose files and templates
 * often pass `NAME=` for "not given"). Lists are the exception: there an empty value is an empty list.
 */
const orDefault = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (typeof value === 'string' && value.trim() === '' ? undefined : value), schema);

const text = (fallback: string) => orDefault(z.string().trim().default(fallback));

/**
 * One word of a fixed set, read as the other settings are: around white space (a CRLF .env passed to
 * `docker run --env-file`, a Secret with a trailing newline) and in any case, as booleans and ROLES.
 */
const choice = <const T extends readonly [string, ...string[]]>(values: T, fallback: T[number]) =>
  orDefault(
    z.preprocess(
      (value) => (typeof value === 'string' ? value.trim().toLowerCase() : value),
      z.enum(values).default(fallback),
    ),
  );

/**
 * A duration in ms; `min` (duration-floors.ts) refuses shorter ones with its own message, which
 * says why. A bare number is milliseconds, so a bare number below the floor was most likely meant
 * as seconds (Postfix's habit): the message says so, rather than the gateway starting and then
 * timing out every session. `max`: for a setting used as a timer's delay (TIMER_CEILING).
 */
const duration = (fallback: string, min: DurationFloor, max?: DurationCeiling) =>
  orDefault(
    z
      .string()
      .default(fallback)
      .transform((value, ctx) => {
        const ms = parseDurationMs(value);
        if (ms === undefined) {
          ctx.addIssue({ code: 'custom', message: 'expected a duration such as 500ms, 30s, 15m, 2h or 3d' });
          return z.NEVER;
        }
        if (ms < min.ms) {
          ctx.addIssue({ code: 'custom', message: `${min.message}${bareNumberHint(value, min.ms)}` });
          return z.NEVER;
        }
        if (max !== undefined && ms > max.ms) {
          ctx.addIssue({ code: 'custom', message: max.message });
          return z.NEVER;
        }
        return ms;
      }),
  );

const integer = (fallback: number, min: number, max: number) => {
  const expected = `expected a whole number from ${min} to ${max}`;
  return orDefault(
    z.coerce
      .number({ message: expected })
      .int(expected)
      .min(min, expected)
      .max(max, expected)
      .default(fallback),
  );
};

const port = (fallback: number) => integer(fallback, 0, 65535);

const optionalInteger = (min: number, max: number, what = 'a whole number') =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return undefined;
      const number = Number(value);
      if (!Number.isInteger(number) || number < min || number > max) {
        ctx.addIssue({ code: 'custom', message: `expected ${what} from ${min} to ${max}` });
        return z.NEVER;
      }
      return number;
    });

const optionalNumber = (min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return undefined;
      const number = Number(value);
      if (!Number.isFinite(number) || number < min || number > max) {
        ctx.addIssue({ code: 'custom', message: `expected a number from ${min} to ${max}` });
        return z.NEVER;
      }
      return number;
    });

const fraction = (fallback: number) => {
  const expected = 'expected a number above 0 and at most 1';
  return orDefault(z.coerce.number({ message: expected }).gt(0, expected).lte(1, expected).default(fallback));
};

const boolean = (fallback: boolean) =>
  orDefault(
    z
      .string()
      .default(String(fallback))
      .transform((value, ctx) => {
        const lower = value.trim().toLowerCase();
        if (['true', '1', 'yes', 'on'].includes(lower)) return true;
        if (['false', '0', 'no', 'off'].includes(lower)) return false;
        ctx.addIssue({ code: 'custom', message: 'expected true or false' });
        return z.NEVER;
      }),
  );

const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

const cidrList = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      const cidrs: Cidr[] = [];
      for (const item of splitList(value)) {
        const cidr = parseCidr(item);
        if (!cidr) ctx.addIssue({ code: 'custom', message: `"${item}" is not an IP address or CIDR range` });
        else cidrs.push(cidr);
      }
      return cidrs;
    });

const senderList = z
  .string()
  .default('')
  .transform((value, ctx) => {
    const entries: string[] = [];
    for (const item of splitList(value)) {
      const entry = senderEntry(item);
      if (entry === undefined) {
        ctx.addIssue({ code: 'custom', message: `"${item}" is neither an address nor an @domain entry` });
      } else entries.push(entry);
    }
    return entries;
  });

const BOUNCE_VERDICTS = ['suppress', 'mirror', 'soft', 'record'] as const;
/** SES's bounce types; subtypes are open (AWS adds new ones), types are not. */
const BOUNCE_TYPES = ['permanent', 'transient', 'undetermined'];

/** "Transient/General=record, Undetermined=suppress": overrides of the bounce policy table. */
const bounceRules = z
  .string()
  .default('')
  .transform((value, ctx) => {
    const rules: Record<string, (typeof BOUNCE_VERDICTS)[number]> = {};
    for (const entry of splitList(value)) {
      const [rule = '', verdict = ''] = entry.split('=');
      if (
        !/^[A-Za-z]+(\/[A-Za-z]+)?$/.test(rule) ||
        !BOUNCE_TYPES.includes(rule.split('/')[0]!.toLowerCase()) ||
        !(BOUNCE_VERDICTS as readonly string[]).includes(verdict)
      ) {
        ctx.addIssue({
          code: 'custom',
          message: `"${entry}" is not Type[/SubType]=${BOUNCE_VERDICTS.join('|')}`,
        });
      } else rules[rule] = verdict as (typeof BOUNCE_VERDICTS)[number];
    }
    return rules;
  });

const topicArnList = z
  .string()
  .default('')
  .transform((value, ctx) => {
    const arns = splitList(value);
    for (const arn of arns) {
      if (!/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}$/.test(arn)) {
        ctx.addIssue({ code: 'custom', message: `"${arn}" is not an SNS topic ARN` });
      }
    }
    return arns;
  });

const roles = orDefault(
  z
    .string()
    .default(ROLE_NAMES.join(','))
    .transform((value, ctx) => {
      const names = splitList(value.toLowerCase());
      const unknown = names.filter((name) => !(ROLE_NAMES as readonly string[]).includes(name));
      if (unknown.length > 0 || names.length === 0) {
        ctx.addIssue({
          code: 'custom',
          message: `expected a comma-separated subset of ${ROLE_NAMES.join(',')}`,
        });
        return z.NEVER;
      }
      return [...new Set(names)] as Role[];
    }),
);

/** A size such as 10MiB, within [min, max] bytes. */
const size = (fallback: string, min: number, max: number, expected: string) =>
  orDefault(
    z
      .string()
      .default(fallback)
      .transform((value, ctx) => {
        const bytes = parseBytes(value);
        if (bytes === undefined || bytes < min || bytes > max) {
          ctx.addIssue({ code: 'custom', message: expected });
          return z.NEVER;
        }
        return bytes;
      }),
  );

/**
 * Only http(s): URL.canParse takes `localhost:6472` too (as the scheme `localhost:`), and the SDK
 * then fails every call with an unreadable 404.
 */
const isHttpUrl = (value: string) => /^https?:\/\//i.test(value) && URL.canParse(value);
const httpUrl = optionalString.refine(
  (value) => value === undefined || isHttpUrl(value),
  'expected a URL starting with http:// or https://',
);

/**
 * A credential that must not still be the example Secret's placeholder (docker/k8s): a deployment
 * that applied it unchanged would guard the admin API with a token anyone can read on GitHub.
 */
const credential = optionalString.refine(
  (value) => value === undefined || !value.includes('REPLACE_WITH'),
  'holds the placeholder of the example Secret (REPLACE_WITH_…): set a long random value, e.g. from `openssl rand -hex 32`',
);

export const envSchema = z
  .object({
    SMTP_HOST: text('0.0.0.0'),
    SMTP_PORT: port(2525),
    SMTP_NAME: text(os.hostname()),
    SMTP_RECEIVED_HEADER: boolean(true),
    SMTP_MAX_MESSAGE_BYTES: size(
      '10MiB',
      1024,
      SES_MAX_MESSAGE_BYTES,
      `expected a size from 1KiB to ${SES_MAX_MESSAGE_BYTES} bytes (SES's limit)`,
    ),
    SMTP_MAX_RECIPIENTS: integer(1000, 1, 100_000),
    SMTP_ALLOWED_NETWORKS: cidrList('127.0.0.0/8,::1/128'),
    SMTP_ALLOWED_SENDERS: senderList,
    SMTP_SOCKET_TIMEOUT: duration('60s', DURATION_FLOORS.SMTP_SOCKET_TIMEOUT, TIMER_CEILING),
    SMTP_MAX_SESSION_TIME: duration('30m', DURATION_FLOORS.SMTP_MAX_SESSION_TIME),
    SMTP_MAX_CONNECTIONS: integer(1000, 1, 100_000),
    SMTP_PROCESSES: integer(1, 1, 64),
    SMTP_MAX_CONNECTIONS_PER_IP: integer(50, 1, 100_000),
    SMTP_USERS_FILE: optionalString,
    SMTP_AUTH_REQUIRED: boolean(false),
    SMTP_ALLOW_INSECURE_AUTH: boolean(false),
    SMTP_AUTH_MAX_FAILURES: integer(5, 1, 1000),
    SMTP_AUTH_FAILURE_WINDOW: duration('5m', DURATION_FLOORS.SMTP_AUTH_FAILURE_WINDOW),
    SMTP_AUTH_COOLDOWN: duration('15m', DURATION_FLOORS.SMTP_AUTH_COOLDOWN),
    SMTP_TLS_CERT: optionalString,
    SMTP_TLS_KEY: optionalString,
    SMTP_TLS_PORT: optionalInteger(0, 65535, 'a port number'),
    SMTP_REQUIRE_TLS: boolean(false),
    SMTP_PROXY_PROTOCOL: boolean(false),
    SMTP_TLS_PROXY_PROTOCOL: boolean(false),
    SMTP_PROXY_TRUSTED_NETWORKS: cidrList(''),
    SMTP_INTAKE_TIMEOUT: duration('5s', DURATION_FLOORS.SMTP_INTAKE_TIMEOUT, TIMER_CEILING),
    HTTP_HOST: text('127.0.0.1'),
    HTTP_PORT: port(8080),
    METRICS_TOKEN: credential,
    HTTP_TLS_CERT: optionalString,
    HTTP_TLS_KEY: optionalString,
    ADMIN_TOKEN: credential,
    ADMIN_USER: optionalString,
    ADMIN_PASSWORD: credential,
    AWS_ACCESS_KEY_ID: optionalString,
    AWS_SECRET_ACCESS_KEY: optionalString,
    AWS_SESSION_TOKEN: optionalString,
    REDIS_URL: text('redis://127.0.0.1:6379').superRefine((value, ctx) => {
      const problem = redisUrlProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
    REDIS_SENTINEL_USERNAME: optionalString,
    REDIS_SENTINEL_PASSWORD: optionalString,
    REDIS_WAIT_REPLICAS: integer(0, 0, 16),
    REDIS_MEMORY_HIGH_WATER: integer(90, 0, 99),
    REDIS_WAIT_TIMEOUT: duration('1s', DURATION_FLOORS.REDIS_WAIT_TIMEOUT),
    REDIS_COMMAND_TIMEOUT: duration('10s', DURATION_FLOORS.REDIS_COMMAND_TIMEOUT, TIMER_CEILING),
    REDIS_PREFIX: text('ses-relay')
      .refine((value) => /^[A-Za-z0-9_.{}-]+$/.test(value), 'expected letters, digits, _ . - { }')
      // Redis Cluster hashes a key by the text between its first `{` and the first `}` after it, or
      // by the whole key when there is none or it is empty (`{}{x}`): braces that do not form such a
      // tag would send every key of the deployment to a slot of its own.
      .refine(
        (value) => !/[{}]/.test(value) || hashTagOf(value) !== undefined,
        'braces must form a hash tag as Redis reads it: the first { and the first } after it, with something between (e.g. {relay} or relay-{eu})',
      ),
    AWS_REGION: text('us-east-1'),
    SES_ENDPOINT: httpUrl,
    SES_CONFIGURATION_SET: optionalString,
    SES_REQUEST_TIMEOUT: duration('30s', DURATION_FLOORS.SES_REQUEST_TIMEOUT, TIMER_CEILING),
    SES_MAX_SEND_RATE: optionalNumber(0.1, 100_000),
    SES_RATE_FACTOR: fraction(0.9),
    SES_ACCOUNT_REFRESH: duration('5m', DURATION_FLOORS.SES_ACCOUNT_REFRESH, TIMER_CEILING),
    SES_PAUSE_PROBE_INTERVAL: duration('1m', DURATION_FLOORS.SES_PAUSE_PROBE_INTERVAL, TIMER_CEILING),
    DSN_FROM: optionalString.refine(
      (value) => value === undefined || /^[^@\s]+@[^@\s]+$/.test(value),
      'expected an email address',
    ),
    WORKER_CONCURRENCY: integer(64, 4, 1000),
    // BullMQ's own defaults. A crashed worker's job is taken up again once its lock has expired and
    // a stalled check (every WORKER_STALLED_INTERVAL, by any worker) has seen it: up to the sum of both.
    WORKER_LOCK_DURATION: duration('30s', DURATION_FLOORS.WORKER_LOCK_DURATION, TIMER_CEILING),
    WORKER_STALLED_INTERVAL: duration('30s', DURATION_FLOORS.WORKER_STALLED_INTERVAL, TIMER_CEILING),
    WORKER_MAX_INFLIGHT_BYTES: size(
      '100MiB',
      1024,
      Number.MAX_SAFE_INTEGER,
      'expected a size of at least 1KiB, e.g. 100MiB',
    ),
    WORKER_MAX_STALLED_COUNT: integer(10, 1, 1000),
    // Unset: as many as fill QUEUE_MAX_AGE (queue/retry.ts).
    SEND_MAX_ATTEMPTS: optionalInteger(1, 100_000),
    SEND_RETRY_BASE: duration('2s', DURATION_FLOORS.SEND_RETRY_BASE),
    SEND_RETRY_MAX: duration('15m', DURATION_FLOORS.SEND_RETRY_MAX),
    QUEUE_MAX_AGE: duration('3d', DURATION_FLOORS.QUEUE_MAX_AGE),
    COMPLETED_JOB_RETENTION: duration('1d', DURATION_FLOORS.COMPLETED_JOB_RETENTION),
    FAILED_JOB_RETENTION: duration('7d', DURATION_FLOORS.FAILED_JOB_RETENTION),
    TRACE_RETENTION: duration('7d', DURATION_FLOORS.TRACE_RETENTION),
    SUPPRESSION_ACTION: choice(['reject', 'drop'], 'reject'),
    SUPPRESSION_HASH_KEY: optionalString,
    SOFT_BOUNCE_LIMIT: integer(3, 1, 1000),
    SOFT_BOUNCE_WINDOW: duration('14d', DURATION_FLOORS.SOFT_BOUNCE_WINDOW),
    // Why a week: DEFAULT_FEEDBACK_POLICY in webhook/feedback-policy.ts.
    SOFT_BOUNCE_SUPPRESS_FOR: duration('7d', DURATION_FLOORS.SOFT_BOUNCE_SUPPRESS_FOR),
    BOUNCE_RULES: bounceRules,
    COMPLAINT_IGNORED_TYPES: z
      .string()
      .default('not-spam')
      .transform((value) => splitList(value.toLowerCase())),
    SNS_TOPIC_ARNS: topicArnList,
    REPUTATION_WINDOW: duration('7d', DURATION_FLOORS.REPUTATION_WINDOW),
    REPUTATION_MIN_SAMPLE: integer(1000, 1, 100_000_000),
    REPUTATION_CHECK_INTERVAL: duration('5m', DURATION_FLOORS.REPUTATION_CHECK_INTERVAL, TIMER_CEILING),
    PAUSE_BOUNCE_RATE: optionalNumber(0.0001, 1),
    PAUSE_COMPLAINT_RATE: optionalNumber(0.00001, 1),
    SNS_DEDUPE_WINDOW: duration('1d', DURATION_FLOORS.SNS_DEDUPE_WINDOW),
    SQS_QUEUE_URL: httpUrl,
    SQS_ENDPOINT: httpUrl,
    // Raw message delivery carries no SNS signature: applied only when the operator vouches for the queue.
    SQS_RAW_MESSAGES: boolean(false),
    // The egress proxy (shared/egress-proxy.ts). Each lower-case form is read when the upper-case
    // one is unset; README lists both in one row.
    HTTPS_PROXY: httpUrl,
    https_proxy: httpUrl,
    HTTP_PROXY: httpUrl,
    http_proxy: httpUrl,
    NO_PROXY: optionalString,
    no_proxy: optionalString,
    SHUTDOWN_TIMEOUT: duration('30s', DURATION_FLOORS.SHUTDOWN_TIMEOUT, TIMER_CEILING),
    ROLES: roles,
    DEMO_SES_SINK_PORT: port(8005),
    LOG_LEVEL: choice(LOG_LEVELS, 'info'),
  })
  // Run even when single values were refused (zod skips refinements then by default), so one message
  // names every problem; the rules skip settings that were refused.
  .superRefine(
    (config, ctx) => {
      const refused = new Set(ctx.issues.map((issue) => issue.path?.[0]));
      for (const { path, message } of crossCheckProblems(config, refused)) {
        ctx.addIssue({ code: 'custom', path: [path], message });
      }
    },
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
  )
  // On Redis Cluster every key of a deployment must share one hash slot (BullMQ's scripts and ours
  // touch several keys at once): a prefix without a {hash tag} (and so without braces) gets one.
  .transform((config) =>
    redisUrlKind(config.REDIS_URL) === 'cluster' && hashTagOf(config.REDIS_PREFIX) === undefined
      ? { ...config, REDIS_PREFIX: `{${config.REDIS_PREFIX}}` }
      : config,
  );

export type Config = Readonly<z.output<typeof envSchema>>;
export type EnvInput = Record<string, string | undefined>;
