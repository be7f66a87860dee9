// ioredis resolves a pipeline or MULTI with one [error, reply] pair per command, so a command
// refused inside EXEC (a RENAME of a key that is gone) would otherwise pass unnoticed.
import type { ChainableCommander } from 'ioredis';

/** Runs a pipeline or MULTI and returns its replies, throwing the first command error instead of hiding it. */
export async function execPipeline<T>(pipeline: ChainableCommander): Promise<T[]> {
  const results = await pipeline.exec();
  if (!results) throw new Error('Redis pipeline was aborted');
  return results.map(([err, value]) => {
    if (err) throw err;
    return value as T;
  });
}
