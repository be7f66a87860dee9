// Removing one finished job (completed or failed) for the queue dashboard's "clean", in one script:
// a state read followed by a removal a few round trips later would delete a job that an operator's
// "retry failed" had put back in the queue in between, and with it a message nobody would send.
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { defineScript, runScript } from '../shared/lua.js';

/*
 * Removes the job only while it is in the completed or failed set, then its keys, and tells BullMQ's
 * event stream as BullMQ's own removal does. The outbound queue's jobs have no parent, children or
 * deduplication id (outbound.ts adds them plainly), and a finished job holds no lock: these are all
 * the keys such a job has. Every key is declared and under the queue's prefix (one hash slot on a
 * Cluster, with REDIS_PREFIX's hash tag).
 * KEYS[1] completed set, KEYS[2] failed set, KEYS[3] job hash, KEYS[4..8] the job's logs,
 * dependencies, processed, failed and unsuccessful keys, KEYS[9] events stream, KEYS[10] meta hash
 * ARGV[1] job id
 * Returns 1 when removed, 0 when the job is in another state (left alone), -1 when there is none.
 */
const REMOVE_FINISHED_JOB = defineScript(`
local id = ARGV[1]
local prev
if redis.call('ZREM', KEYS[1], id) == 1 then
  prev = 'completed'
elseif redis.call('ZREM', KEYS[2], id) == 1 then
  prev = 'failed'
elseif redis.call('EXISTS', KEYS[3]) == 1 then
  return 0
else
  return -1
end
redis.call('DEL', KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8])
local maxEvents = tonumber(redis.call('HGET', KEYS[10], 'opts.maxLenEvents')) or 10000
redis.call('XADD', KEYS[9], 'MAXLEN', '~', maxEvents, '*', 'event', 'removed', 'jobId', id, 'prev', prev)
return 1
`);

const JOB_KEY_SUFFIXES = ['logs', 'dependencies', 'processed', 'failed', 'unsuccessful'];

export type FinishedJobRemoval = 'removed' | 'unfinished' | 'missing';

export async function removeFinishedJob(
  redis: Redis,
  queue: Queue,
  jobId: string,
): Promise<FinishedJobRemoval> {
  const jobKey = queue.toKey(jobId);
  const keys = [
    queue.keys.completed!,
    queue.keys.failed!,
    jobKey,
    ...JOB_KEY_SUFFIXES.map((suffix) => `${jobKey}:${suffix}`),
    queue.keys.events!,
    queue.keys.meta!,
  ];
  const result = await runScript(redis, REMOVE_FINISHED_JOB, keys, [jobId]);
  return result === 1 ? 'removed' : result === 0 ? 'unfinished' : 'missing';
}
