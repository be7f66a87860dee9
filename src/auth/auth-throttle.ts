// Throttles failed SMTP AUTH per client address, shared by every gateway instance through Redis: after
// `maxFailures` failures within `windowMs`, the client is refused for `cooldownMs`. Each attempt is
// reserved before its password is checked, and attempts in progress count with the failures, so
// parallel connections (to any instance) cannot check more than `maxFailures` guesses between them.
// Never throws; when Redis cannot answer, the decision is "unavailable" and the listener refuses AUTH
// with a 454.
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { withDeadline } from '../shared/deadline.js';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { clientKey } from './client-key.js';
import { runScript, type LuaScript } from '../shared/lua.js';
import { CHECK, RECORD_FAILURE, RECORD_SUCCESS, RESERVE } from './throttle-scripts.js';

/** A throttle that cannot reach Redis must still answer before the SMTP client gives up. */
export const DEFAULT_THROTTLE_TIMEOUT_MS = 2000;
/** What an "unavailable" answer suggests as the wait; Redis usually reconnects within seconds. */
const UNAVAILABLE_RETRY_AFTER_MS = 30_000;
/**
 * How long an attempt may wait for one in progress to finish when the client has the maximum in
 * progress. A client pool opening many connections at once (a Postfix relay, a cold credential cache)
 * waits for a bcrypt check or two instead of being refused; well inside SMTP clients' reply timeouts.
 */
export const DEFAULT_BUSY_WAIT_MS = 5000;
/** First and longest pause between two tries of a waiting attempt. */
const BUSY_RETRY_FIRST_MS = 25;
const BUSY_RETRY_MAX_MS = 400;
/**
 * An attempt whose process died before settling it stops counting after this long: far above any
 * bcrypt check, short enough that a crash does not hold the client's logins for long.
 */
const ATTEMPT_HOLD_MS = 60_000;

export interface AuthThrottleOptions {
  /** A fail-fast connection (the 'intake' kind): no offline queue, so an outage answers at once. */
  redis: Redis;
  /** Keys are `<prefix>:<client>`, one per client address or IPv6 /64. */
  prefix: string;
  maxFailures: number;
  windowMs: number;
  cooldownMs: number;
  logger: Logger;
  /** Upper bound for one Redis round trip. */
  timeoutMs?: number;
  /** How long reserve() waits while the client has the maximum of attempts in progress. */
  busyWaitMs?: number;
}

/**
 * - `allowed`: go on and check the password.
 * - `blocked`: too many failures; refuse AUTH (454 4.7.0) until `retryAfterMs` has passed.
 * - `unavailable`: Redis did not answer. Refuse AUTH with 454 4.7.0 too: letting it through would
 *   lift the limit for as long as Redis is down, and with Redis down no mail can be queued anyway.
 */
export type ThrottleDecision =
  | { blocked: false; reason: 'allowed'; retryAfterMs: 0 }
  | { blocked: true; reason: 'blocked' | 'unavailable'; retryAfterMs: number };

/**
 * reserve()'s answer: `allowed` carries the attempt to settle with recordFailure, recordSuccess or
 * release; `busy` means the client had the maximum of attempts in progress for the whole wait.
 */
export type AttemptDecision =
  | { blocked: false; reason: 'allowed'; attempt: string; retryAfterMs: 0 }
  | { blocked: true; reason: 'blocked' | 'busy' | 'unavailable'; retryAfterMs: number };

export interface FailureResult {
  /** True when this failure used up the budget (or the client was already blocked). */
  blocked: boolean;
  /** Failures inside the window, this one included; 0 when Redis could not count it. */
  failures: number;
  retryAfterMs: number;
}

export interface AuthThrottle {
  /** Whether the client is blocked now; reads only (reserve() is what a login goes through). */
  check(ip: string): Promise<ThrottleDecision>;
  /** Takes one attempt before a password is checked; call before every check. */
  reserve(ip: string): Promise<AttemptDecision>;
  /**
   * Counts a failure and settles `attempt`. `username` lets a later success forgive only that
   * user's typos (see recordSuccess).
   */
  recordFailure(ip: string, username?: string, attempt?: string): Promise<FailureResult>;
  /**
   * Settles `attempt` and forgets this client's failures for `username` only. Forgetting all of them
   * would let anyone with one valid account interleave logins with guesses at other accounts and
   * never reach the limit.
   */
  recordSuccess(ip: string, username: string, attempt?: string): Promise<void>;
  /** Settles `attempt` without a verdict (the check itself failed). */
  release(ip: string, attempt: string): Promise<void>;
}

/** A short digest: enough to tell usernames apart in one client's list, and no username in Redis. */
function usernameTag(username: string | undefined): string {
  return createHash('sha256')
    .update(username ?? '')
    .digest('hex')
    .slice(0, 12);
}

export function createAuthThrottle(options: AuthThrottleOptions): AuthThrottle {
  const { redis, logger } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_THROTTLE_TIMEOUT_MS;
  const busyWaitMs = options.busyWaitMs ?? DEFAULT_BUSY_WAIT_MS;
  if (options.maxFailures < 1 || options.windowMs <= 0 || options.cooldownMs <= 0) {
    throw new Error('auth throttle: maxFailures, windowMs and cooldownMs must be positive');
  }
  const key = (ip: string) => `${options.prefix}:${clientKey(ip)}`;
  const run = (script: LuaScript, ip: string, args: (string | number)[]) =>
    withDeadline(runScript(redis, script, [key(ip)], args), timeoutMs, 'Redis');

  return {
    async check(ip) {
      try {
        const remainingMs = Number(await run(CHECK, ip, []));
        if (remainingMs > 0) return { blocked: true, reason: 'blocked', retryAfterMs: remainingMs };
        return { blocked: false, reason: 'allowed', retryAfterMs: 0 };
      } catch (err) {
        logger.warn({ client: ip, err: errorMessage(err) }, 'auth.throttle.unavailable');
        return { blocked: true, reason: 'unavailable', retryAfterMs: UNAVAILABLE_RETRY_AFTER_MS };
      }
    },

    async reserve(ip) {
      const attempt = randomBytes(6).toString('hex');
      const deadline = Date.now() + busyWaitMs;
      for (let pause = BUSY_RETRY_FIRST_MS; ; pause = Math.min(pause * 2, BUSY_RETRY_MAX_MS)) {
        let answer: [number, number];
        try {
          const args = [options.maxFailures, options.windowMs, ATTEMPT_HOLD_MS, attempt];
          answer = (await run(RESERVE, ip, args)) as [number, number];
        } catch (err) {
          logger.warn({ client: ip, err: errorMessage(err) }, 'auth.throttle.unavailable');
          return { blocked: true, reason: 'unavailable', retryAfterMs: UNAVAILABLE_RETRY_AFTER_MS };
        }
        const [status, remainingMs] = answer;
        if (status === 0) return { blocked: false, reason: 'allowed', attempt, retryAfterMs: 0 };
        if (status === 1) return { blocked: true, reason: 'blocked', retryAfterMs: remainingMs };
        if (Date.now() + pause > deadline) return { blocked: true, reason: 'busy', retryAfterMs: pause };
        await delay(pause);
      }
    },

    async recordFailure(ip, username, attempt = '') {
      try {
        const [blocked, failures, retryAfterMs] = (await run(RECORD_FAILURE, ip, [
          options.maxFailures,
          options.windowMs,
          options.cooldownMs,
          usernameTag(username),
          attempt,
          ATTEMPT_HOLD_MS,
        ])) as [number, number, number];
        if (blocked === 1) logger.warn({ client: ip, failures, retryAfterMs }, 'auth.throttle.blocked');
        return { blocked: blocked === 1, failures, retryAfterMs };
      } catch (err) {
        logger.warn({ client: ip, err: errorMessage(err) }, 'auth.throttle.unavailable');
        return { blocked: false, failures: 0, retryAfterMs: 0 };
      }
    },

    async recordSuccess(ip, username, attempt = '') {
      await settle(ip, usernameTag(username), attempt);
    },

    async release(ip, attempt) {
      await settle(ip, '', attempt);
    },
  };

  async function settle(ip: string, tag: string, attempt: string): Promise<void> {
    try {
      await run(RECORD_SUCCESS, ip, [tag, attempt]);
    } catch (err) {
      // Failures age out of the window and attempts after their hold; nothing to refuse here.
      logger.warn({ client: ip, err: errorMessage(err) }, 'auth.throttle.unavailable');
    }
  }
}
