// Small helpers over ioredis pipelines for the suppression store.
import type { ChainableCommander } from 'ioredis';

/** Runs a pipeline and returns its replies, throwing the first command error instead of hiding it. */
export async function execPipeline<T>(pipeline: ChainableCommander): Promise<T[]> {
  const results = await pipeline.exec();
  if (!results) throw new Error('Redis pipeline was aborted');
  return results.map(([err, value]) => {
    if (err) throw err;
    return value as T;
  });
}
