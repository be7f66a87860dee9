// Which errors mean "Redis is unreachable or not serving": ioredis's own, Redis's "not now" replies,
// socket errors, and any of these wrapped as a cause.
import { describe, expect, it } from 'vitest';
import { isRedisUnavailable } from '../../src/shared/redis-unavailable.js';

const named = (name: string, message = 'x') => Object.assign(new Error(message), { name });
const coded = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:6379`), { code });

describe('isRedisUnavailable', () => {
  it('recognises connection failures, timeouts and "not now" replies', () => {
    for (const err of [
      named('MaxRetriesPerRequestError', 'Reached the max retries per request limit (which is 1).'),
      named('ClusterAllFailedError', 'Failed to refresh slots cache.'),
      new Error('Command timed out'),
      new Error('Connection is closed.'),
      new Error("Stream isn't writeable and enableOfflineQueue options is false"),
      named('ReplyError', 'LOADING Redis is loading the dataset in memory'),
      named('ReplyError', 'MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no'),
      named('ReplyError', "READONLY You can't write against a read only replica."),
      coded('ECONNREFUSED'),
      coded('ETIMEDOUT'),
      new Error('suppression store failed', { cause: new Error('Command timed out') }),
    ]) {
      expect(isRedisUnavailable(err), err.message).toBe(true);
    }
  });

  it('leaves every other failure to be reported as one', () => {
    for (const err of [
      new Error('boom'),
      new TypeError("Cannot read properties of undefined (reading 'x')"),
      named('ReplyError', 'ERR unknown command'),
      named('ReplyError', 'NOSCRIPT No matching script'),
      new Error('Command timed out after a while'),
      'Command timed out',
      undefined,
      null,
    ]) {
      expect(isRedisUnavailable(err), String(err)).toBe(false);
    }
  });
});
