// Publishes the SMTP users' send policy (dailyCap, rateShare) to Redis whenever the users file is
// loaded or reloaded, so that workers apply the file as it is now to mail already queued
// (queue/user-policy.ts). One hash (field = username, value = JSON), replaced whole in one MULTI on
// one key (Cluster-safe): a user removed from the file disappears from it.
//
// Publishing never fails the users' (re)load: a failure is logged and tried again on the next
// reload and every PUBLISH_INTERVAL_MS, which also restores the hash after Redis lost its data.
import type { Redis } from 'ioredis';
import { policyOf } from '../queue/user-policy.js';
import { errorMessage } from '../shared/errors.js';
import { execPipeline } from '../shared/redis-exec.js';
import type { Logger } from '../shared/logger.js';
import type { SmtpUser } from './users-schema.js';

/** How often the policy is published again though the file has not changed. */
export const PUBLISH_INTERVAL_MS = 60_000;

export interface PolicyPublisherOptions {
  redis: Redis;
  /** keys.userPolicy */
  key: string;
  /** The users as loaded now. */
  users(): readonly SmtpUser[];
  logger: Logger;
  intervalMs?: number;
}

export interface PolicyPublisher {
  /** Publishes the users' policy now (after any publish under way). Never rejects: false on failure. */
  publish(): Promise<boolean>;
  /** Resolves once every publish asked for so far has ended (true when the last one succeeded). */
  idle(): Promise<boolean>;
  /** Publishes again every intervalMs until stop(). */
  start(): void;
  stop(): void;
}

/** The hash's fields: each user's limits as JSON (an empty object for a user with none). */
export function policyFields(users: readonly SmtpUser[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const user of users) fields[user.username] = JSON.stringify(policyOf(user.dailyCap, user.rateShare));
  return fields;
}

export function createPolicyPublisher(options: PolicyPublisherOptions): PolicyPublisher {
  const { redis, key, logger } = options;
  let failing = false;
  let last: Promise<boolean> = Promise.resolve(true);
  let timer: NodeJS.Timeout | undefined;

  async function write(): Promise<boolean> {
    // Read when the write starts, not when it was asked for: a reload meanwhile is included.
    const fields = policyFields(options.users());
    try {
      const multi = redis.multi().del(key);
      if (Object.keys(fields).length > 0) multi.hset(key, fields);
      await execPipeline(multi);
      if (failing) logger.info({ users: Object.keys(fields).length }, 'auth.users.policy_published');
      failing = false;
      return true;
    } catch (err) {
      if (!failing) {
        logger.error(
          { err: errorMessage(err), retryInMs: options.intervalMs ?? PUBLISH_INTERVAL_MS },
          'auth.users.policy_publish_failed: until it is published, workers go on with the policy published before (or, for a user it lacks, the one each queued message got at intake)',
        );
      }
      failing = true;
      return false;
    }
  }

  function publish(): Promise<boolean> {
    last = last.then(write);
    return last;
  }

  return {
    publish,
    idle: () => last,
    start() {
      timer ??= setInterval(() => void publish(), options.intervalMs ?? PUBLISH_INTERVAL_MS);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
