// The SMTP users' send policy (dailyCap, rateShare) as the users file has it now, which the smtp
// role publishes to Redis on every (re)load (auth/policy-publisher.ts). A queued message carries the
// policy its user had at intake; the worker uses the published one instead, so mail held for a cap
// goes out once the cap is raised, and a lowered cap or rate share applies to mail already queued.
// The job's copy is kept when nothing is published for the user: a removed user, or a deployment
// whose smtp role runs a version that does not publish.
//
// Reads are cached per process for a few seconds, so a busy worker does not read Redis per chunk.
import type { Redis } from 'ioredis';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { SendJobData } from './job.js';

/** How long this process reuses a user's published policy before reading it again. */
export const USER_POLICY_CACHE_MS = 5000;

/** A user's limits; a limit left out does not apply. */
export interface UserPolicy {
  dailyCap?: number;
  rateShare?: number;
}

export interface UserPolicies {
  /** The published policy; undefined when none is. `fresh` skips the cache. */
  published(user: string, options?: { fresh?: boolean }): Promise<UserPolicy | undefined>;
}

/** A policy with the limits that are set (a limit left out does not apply). */
export function policyOf(dailyCap: number | undefined, rateShare: number | undefined): UserPolicy {
  const policy: UserPolicy = {};
  if (dailyCap !== undefined) policy.dailyCap = dailyCap;
  if (rateShare !== undefined) policy.rateShare = rateShare;
  return policy;
}

/** The policy that applies to a job's user: the published one, else the job's copy from intake. */
export async function userPolicyOf(
  data: SendJobData,
  policies: UserPolicies | undefined,
  options?: { fresh?: boolean },
): Promise<UserPolicy> {
  if (!data.user) return {};
  const published = await policies?.published(data.user, options);
  return published ?? policyOf(data.userDailyCap, data.userRateShare);
}

/** One hash field's value as published; undefined when it is not a policy (then the copy is kept). */
export function parseUserPolicy(value: string): UserPolicy | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { dailyCap, rateShare } = parsed as Record<string, unknown>;
  const policy: UserPolicy = {};
  for (const [name, limit] of [
    ['dailyCap', dailyCap],
    ['rateShare', rateShare],
  ] as const) {
    if (limit === undefined) continue;
    if (typeof limit !== 'number' || !Number.isFinite(limit) || limit <= 0) return undefined;
    policy[name] = limit;
  }
  return policy;
}

export interface UserPoliciesOptions {
  redis: Redis;
  /** keys.userPolicy: one hash, field = username, value = JSON UserPolicy. */
  key: string;
  logger: Logger;
  cacheMs?: number;
  now?: () => number;
}

export function createUserPolicies(options: UserPoliciesOptions): UserPolicies {
  const { redis, key, logger } = options;
  const cacheMs = options.cacheMs ?? USER_POLICY_CACHE_MS;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { policy: UserPolicy | undefined; until: number }>();
  /** One read per user at a time: the chunks waiting for it share its answer. */
  const reading = new Map<string, Promise<UserPolicy | undefined>>();
  let failing = false;

  async function read(user: string): Promise<UserPolicy | undefined> {
    try {
      const value = await redis.hget(key, user);
      const policy = value === null ? undefined : parseUserPolicy(value);
      cache.set(user, { policy, until: now() + cacheMs });
      if (failing) logger.info('worker.user_policy_read_recovered');
      failing = false;
      return policy;
    } catch (err) {
      // Advisory: the last policy read, else the job's copy; the reservation that follows meets
      // the same Redis and fails (or waits) as it would have.
      if (!failing) logger.warn({ err: errorMessage(err) }, 'worker.user_policy_read_failed');
      failing = true;
      return cache.get(user)?.policy;
    }
  }

  return {
    published(user, { fresh = false } = {}) {
      const cached = cache.get(user);
      if (!fresh && cached && cached.until > now()) return Promise.resolve(cached.policy);
      const pending = reading.get(user);
      if (pending) return pending;
      const next = read(user).finally(() => reading.delete(user));
      reading.set(user, next);
      return next;
    },
  };
}
