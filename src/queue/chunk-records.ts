// What the worker has settled of a message's chunks, kept in Redis so that no retry (after an error,
// a crash, a shutdown or a delay) repeats it:
// - keys.sentChunks: chunk index → SES MessageId, or DROPPED_CHUNK when every recipient of the chunk
//   was suppressed at send time (nothing sent);
// - keys.refusedChunks: chunk index → the SES evidence of a permanent refusal of that chunk. The other
//   chunks still go out; the message fails once every chunk is settled.
// Refusals belong to one delivery: when the job fails for good they are marked ended, and the next run
// (an operator's retry, once the cause is fixed) tries those chunks again. Sent chunks are never sent
// again.
import type { Redis } from 'ioredis';
import type { Keys } from '../shared/keys.js';
import { execPipeline } from '../shared/redis-exec.js';
import { DROPPED_CHUNK } from './job.js';

/** Field of keys.refusedChunks set when the job failed for good; never a chunk index. */
export const REFUSALS_ENDED_FIELD = 'ended';

export interface ChunkRefusal {
  index: number;
  /** SES's answer, e.g. `MessageRejected (HTTP 400): Email address is not verified.` */
  error: string;
}

export interface SettledChunks {
  /** Chunk index → SES MessageId or DROPPED_CHUNK. */
  sent: Record<string, string>;
  /** Chunk index → SES evidence, for this delivery. */
  refused: Record<string, string>;
}

export interface ChunkRecords {
  read(queueId: string): Promise<SettledChunks>;
  recordSent(queueId: string, index: number, sesMessageId: string): Promise<void>;
  recordDropped(queueId: string, index: number): Promise<void>;
  recordRefused(queueId: string, index: number, error: string): Promise<void>;
}

export function createChunkRecords(redis: Redis, keys: Keys, ttlMs: number): ChunkRecords {
  async function put(key: string, index: number, value: string): Promise<void> {
    await execPipeline(redis.multi().hset(key, String(index), value).pexpire(key, ttlMs));
  }
  return {
    async read(queueId) {
      const [sent, refused] = await Promise.all([
        redis.hgetall(keys.sentChunks(queueId)),
        redis.hgetall(keys.refusedChunks(queueId)),
      ]);
      if (refused[REFUSALS_ENDED_FIELD] === undefined) return { sent, refused };
      // A run after the job failed for good: the refusals were that delivery's verdict, not this one's.
      await redis.del(keys.refusedChunks(queueId));
      return { sent, refused: {} };
    },
    recordSent: (queueId, index, sesMessageId) => put(keys.sentChunks(queueId), index, sesMessageId),
    recordDropped: (queueId, index) => put(keys.sentChunks(queueId), index, DROPPED_CHUNK),
    recordRefused: (queueId, index, error) => put(keys.refusedChunks(queueId), index, error),
  };
}

/**
 * The failure reason of a message some of whose chunks SES refused: SES's answer as it came when the
 * chunks share it (one refused chunk, or the same verdict for each), else each chunk's own.
 */
export function refusalReason(refusals: ChunkRefusal[], chunkCount: number): string {
  const errors = new Set(refusals.map((refusal) => refusal.error));
  if (errors.size === 1) return `SES_PERMANENT: ${refusals[0]!.error}`;
  const each = refusals.map((refusal) => `chunk ${refusal.index + 1} of ${chunkCount}: ${refusal.error}`);
  return `SES_PERMANENT: ${each.join('; ')}`;
}
