// Bounds how long a caller waits for work that may not settle soon: a Redis command during an
// outage, on a connection that queues commands until Redis is back. The work itself goes on; only
// the wait ends.

/** Resolves or rejects as `work` does, or rejects once `ms` have passed without an answer. */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  // A rejection after the deadline has no one waiting for it any more.
  work.catch(() => undefined);
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
