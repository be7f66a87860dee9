// Rules between settings: pairs that go together, durations that must keep an order. Pure; the
// schema runs them even when single values were refused, so that one start-up message names every
// problem. A rule is skipped when a setting it reads was itself refused (its value is unusable).
import { redisUrlKind } from '../shared/redis.js';
import type { Cidr } from './parsers.js';
import { formatDurationMs } from './parsers.js';

/** The parsed settings the rules read. */
export interface CrossCheckedSettings {
  SMTP_TLS_CERT: string | undefined;
  SMTP_TLS_KEY: string | undefined;
  HTTP_TLS_CERT: string | undefined;
  HTTP_TLS_KEY: string | undefined;
  SMTP_REQUIRE_TLS: boolean;
  SMTP_TLS_PORT: number | undefined;
  SMTP_PORT: number;
  SMTP_HOST: string;
  HTTP_PORT: number;
  HTTP_HOST: string;
  ROLES: readonly string[];
  SMTP_AUTH_REQUIRED: boolean;
  SMTP_USERS_FILE: string | undefined;
  SMTP_PROXY_PROTOCOL: boolean;
  SMTP_TLS_PROXY_PROTOCOL: boolean;
  SMTP_PROXY_TRUSTED_NETWORKS: readonly Cidr[];
  ADMIN_USER: string | undefined;
  ADMIN_PASSWORD: string | undefined;
  AWS_ACCESS_KEY_ID: string | undefined;
  AWS_SECRET_ACCESS_KEY: string | undefined;
  REDIS_URL: string;
  REDIS_SENTINEL_USERNAME: string | undefined;
  REDIS_SENTINEL_PASSWORD: string | undefined;
  SEND_RETRY_BASE: number;
  SEND_RETRY_MAX: number;
  QUEUE_MAX_AGE: number;
  REDIS_WAIT_REPLICAS: number;
  REDIS_WAIT_TIMEOUT: number;
  SMTP_INTAKE_TIMEOUT: number;
}

type Key = keyof CrossCheckedSettings;

interface Rule {
  /** Every setting the rule reads. */
  reads: readonly Key[];
  /** The setting the problem is reported under. */
  path: Key;
  /** The problem, or undefined when the settings agree. */
  problem(settings: CrossCheckedSettings): string | undefined;
}

const goTogether = (a: Key, b: Key): Rule => ({
  reads: [a, b],
  path: a,
  problem: (s) => (Boolean(s[a]) !== Boolean(s[b]) ? `${a} and ${b} go together` : undefined),
});

/** `shorter` may not exceed `longer`; `why` says what a longer one would mean. */
const notLonger = (shorter: Key, longer: Key, path: Key, why: string): Rule => ({
  reads: [shorter, longer],
  path,
  problem(s) {
    const [a, b] = [s[shorter] as number, s[longer] as number];
    if (a <= b) return undefined;
    return `${shorter} (${formatDurationMs(a)}) is longer than ${longer} (${formatDurationMs(b)}): ${why}`;
  },
});

/** Addresses that listen on every interface, and so share a port with any other address. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::']);

/**
 * HTTP_PORT on an address the SMTP listener of the same process takes too: the second listener
 * would fail at start-up with EADDRINUSE, as if another process held the port. Port 0 (any free
 * port) never collides; roles that run in other processes (ROLES) may share a number.
 */
function httpPortClash(s: CrossCheckedSettings): string | undefined {
  if (!s.ROLES.includes('smtp') || !s.ROLES.includes('http') || s.HTTP_PORT === 0) return undefined;
  const overlap =
    s.SMTP_HOST === s.HTTP_HOST || WILDCARD_HOSTS.has(s.SMTP_HOST) || WILDCARD_HOSTS.has(s.HTTP_HOST);
  const smtp =
    s.SMTP_PORT === s.HTTP_PORT ? 'SMTP_PORT' : s.SMTP_TLS_PORT === s.HTTP_PORT ? 'SMTP_TLS_PORT' : '';
  if (!overlap || smtp === '') return undefined;
  return `HTTP_PORT (${s.HTTP_PORT}) is ${smtp} too, on SMTP_HOST ${s.SMTP_HOST} and HTTP_HOST ${s.HTTP_HOST}: give each listener a port of its own`;
}

const RULES: readonly Rule[] = [
  {
    reads: ['SMTP_PORT', 'SMTP_TLS_PORT'],
    path: 'SMTP_TLS_PORT',
    problem: (s) =>
      s.SMTP_TLS_PORT !== undefined && s.SMTP_TLS_PORT !== 0 && s.SMTP_TLS_PORT === s.SMTP_PORT
        ? `SMTP_TLS_PORT (${s.SMTP_TLS_PORT}) is SMTP_PORT too: implicit TLS needs a port of its own (e.g. 465)`
        : undefined,
  },
  {
    reads: ['SMTP_PORT', 'SMTP_TLS_PORT', 'HTTP_PORT', 'SMTP_HOST', 'HTTP_HOST', 'ROLES'],
    path: 'HTTP_PORT',
    problem: httpPortClash,
  },
  goTogether('SMTP_TLS_CERT', 'SMTP_TLS_KEY'),
  goTogether('HTTP_TLS_CERT', 'HTTP_TLS_KEY'),
  {
    reads: ['SMTP_TLS_CERT', 'SMTP_REQUIRE_TLS', 'SMTP_TLS_PORT'],
    path: 'SMTP_REQUIRE_TLS',
    problem: (s) =>
      !s.SMTP_TLS_CERT && (s.SMTP_REQUIRE_TLS || s.SMTP_TLS_PORT !== undefined)
        ? 'SMTP_REQUIRE_TLS and SMTP_TLS_PORT need SMTP_TLS_CERT and SMTP_TLS_KEY'
        : undefined,
  },
  {
    reads: ['SMTP_AUTH_REQUIRED', 'SMTP_USERS_FILE'],
    path: 'SMTP_AUTH_REQUIRED',
    problem: (s) =>
      s.SMTP_AUTH_REQUIRED && !s.SMTP_USERS_FILE ? 'SMTP_AUTH_REQUIRED needs SMTP_USERS_FILE' : undefined,
  },
  {
    reads: ['SMTP_TLS_PROXY_PROTOCOL', 'SMTP_TLS_PORT'],
    path: 'SMTP_TLS_PROXY_PROTOCOL',
    problem: (s) =>
      s.SMTP_TLS_PROXY_PROTOCOL && s.SMTP_TLS_PORT === undefined
        ? 'SMTP_TLS_PROXY_PROTOCOL needs SMTP_TLS_PORT'
        : undefined,
  },
  // A PROXY header names the client, so whoever may send one may claim any address (one inside
  // SMTP_ALLOWED_NETWORKS relays without AUTH): only the load balancers may.
  {
    reads: ['SMTP_PROXY_PROTOCOL', 'SMTP_TLS_PROXY_PROTOCOL', 'SMTP_PROXY_TRUSTED_NETWORKS'],
    path: 'SMTP_PROXY_TRUSTED_NETWORKS',
    problem: (s) =>
      (s.SMTP_PROXY_PROTOCOL || s.SMTP_TLS_PROXY_PROTOCOL) && s.SMTP_PROXY_TRUSTED_NETWORKS.length === 0
        ? "SMTP_PROXY_PROTOCOL and SMTP_TLS_PROXY_PROTOCOL need SMTP_PROXY_TRUSTED_NETWORKS: list the load balancers' addresses (CIDRs); to take a PROXY header from any peer, write 0.0.0.0/0,::/0"
        : undefined,
  },
  goTogether('ADMIN_USER', 'ADMIN_PASSWORD'),
  goTogether('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'),
  {
    reads: ['REDIS_SENTINEL_USERNAME', 'REDIS_SENTINEL_PASSWORD', 'REDIS_URL'],
    path: 'REDIS_SENTINEL_PASSWORD',
    problem: (s) =>
      (s.REDIS_SENTINEL_USERNAME || s.REDIS_SENTINEL_PASSWORD) && redisUrlKind(s.REDIS_URL) !== 'sentinel'
        ? 'REDIS_SENTINEL_USERNAME and REDIS_SENTINEL_PASSWORD need a redis-sentinel:// REDIS_URL'
        : undefined,
  },
  notLonger(
    'SEND_RETRY_BASE',
    'SEND_RETRY_MAX',
    'SEND_RETRY_MAX',
    'the first retry would already wait longer than the cap allows (a bare number is milliseconds: check the units)',
  ),
  // A cap longer than the whole queue lifetime is never reached: most likely a unit slip, as in
  // QUEUE_MAX_AGE=259200 (3 days in seconds, but 4 minutes 19 seconds here).
  notLonger(
    'SEND_RETRY_MAX',
    'QUEUE_MAX_AGE',
    'QUEUE_MAX_AGE',
    'the cap between retries is longer than a message lives (a bare number is milliseconds: check the units); for a short queue lifetime, lower SEND_RETRY_MAX too',
  ),
  // The wait for replicas is part of the write SMTP_INTAKE_TIMEOUT bounds: one as long as the
  // whole write would answer 451 to every message whose replicas are slow to acknowledge, and to
  // every message once one replica is gone.
  {
    reads: ['REDIS_WAIT_REPLICAS', 'REDIS_WAIT_TIMEOUT', 'SMTP_INTAKE_TIMEOUT'],
    path: 'REDIS_WAIT_TIMEOUT',
    problem: (s) =>
      s.REDIS_WAIT_REPLICAS > 0 && s.REDIS_WAIT_TIMEOUT >= s.SMTP_INTAKE_TIMEOUT
        ? `REDIS_WAIT_TIMEOUT (${formatDurationMs(s.REDIS_WAIT_TIMEOUT)}) must be shorter than SMTP_INTAKE_TIMEOUT (${formatDurationMs(s.SMTP_INTAKE_TIMEOUT)}), which bounds the whole write, the wait for replicas included`
        : undefined,
  },
];

export interface CrossCheckProblem {
  path: Key;
  message: string;
}

/** The rules' problems; `refused` names the settings already refused on their own. */
export function crossCheckProblems(
  settings: CrossCheckedSettings,
  refused: ReadonlySet<unknown>,
): CrossCheckProblem[] {
  const problems: CrossCheckProblem[] = [];
  for (const rule of RULES) {
    if (rule.reads.some((key) => refused.has(key))) continue;
    const message = rule.problem(settings);
    if (message !== undefined) problems.push({ path: rule.path, message });
  }
  return problems;
}
