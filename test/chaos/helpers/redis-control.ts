// Redis faults the scenarios need beyond PrivateRedis's kill/start: a clean SHUTDOWN (Redis
// fsyncs its AOF and exits) and a probe for "nothing listens on the port any more".
import net from 'node:net';
import { Redis } from 'ioredis';
import type { PrivateRedis } from '../../helpers/redis.js';
import { waitFor } from '../../helpers/wait.js';

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** SHUTDOWN (AOF flushed to disk), waiting until the server is gone. */
export async function shutdownRedis(redis: PrivateRedis): Promise<void> {
  const client = new Redis(redis.url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  await client.connect();
  // The reply to SHUTDOWN is the connection closing.
  await client.call('SHUTDOWN').catch(() => undefined);
  client.disconnect();
  await waitFor(async () => !(await listening(redis.port)), { timeoutMs: 10_000, what: 'Redis to exit' });
}

/** A Redis client for the test's own reads (reconciliation, counters). */
export function testClient(url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: null });
  client.on('error', () => undefined);
  return client;
}
