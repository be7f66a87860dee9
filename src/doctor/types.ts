// The shapes of `ses-relay doctor`: a check is data (an id, what it needs, a function that returns
// verdicts), so adding one is adding a module to the list in checks/index.ts.
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Config } from '../config/index.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  /** The check that produced it, e.g. `redis.eviction`. */
  check: string;
  status: CheckStatus;
  message: string;
  /** What to do about a warn or fail: a command or setting, exact enough to paste. */
  fix?: string;
}

/** One Redis master as the doctor read it. */
export interface RedisNodeFacts {
  /** Where it is: host:port or a socket path. */
  address: string;
  /** Whether messages name it: REDIS_URL alone does not say which server a Sentinel or Cluster node is. */
  named: boolean;
  /** The redis-cli invocation that reaches it, for fix lines: host and port, never the password. */
  cli: string;
  /** Its `INFO` as key → value (all default sections). */
  info: Record<string, string>;
}

/** What the checks read; each fact is fetched once however many checks use it. */
export interface DoctorContext {
  config: Config;
  /** The Redis at REDIS_URL: the server, the master found through Sentinel, or every Cluster master. */
  redisNodes(): Promise<RedisNodeFacts[]>;
  ses: SESv2Client;
  /** SNS_TOPIC_ARNS as the webhook allows them. */
  snsTopicArns: readonly string[];
}

export interface DoctorCheck {
  id: string;
  /** Checks that must not have failed (or been skipped) for this one to mean anything. */
  needs?: readonly string[];
  run(ctx: DoctorContext): Promise<CheckResult[]>;
}

export const ok = (check: string, message: string): CheckResult => ({ check, status: 'ok', message });
export const warn = (check: string, message: string, fix?: string): CheckResult => ({
  check,
  status: 'warn',
  message,
  ...(fix ? { fix } : {}),
});
export const fail = (check: string, message: string, fix?: string): CheckResult => ({
  check,
  status: 'fail',
  message,
  ...(fix ? { fix } : {}),
});
export const skip = (check: string, message: string): CheckResult => ({ check, status: 'skip', message });
