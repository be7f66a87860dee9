// Group commit on sockets: what is written during one event-loop turn leaves in one write, and
// nothing is held back or lost.
import net from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coalesceRedisWrites, coalesceUntilEndOfTurn } from '../../src/shared/write-coalescing.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

let server: PrivateRedis;
let stats: Redis;

async function readsProcessed(): Promise<number> {
  const info = await stats.info('stats');
  return Number(/total_reads_processed:(\d+)/.exec(info)?.[1]);
}

beforeAll(async () => {
  server = await startPrivateRedis();
  stats = new Redis(server.url);
});

afterAll(async () => {
  stats.disconnect();
  await server.stop();
});

describe('coalesceRedisWrites', () => {
  it('sends the commands of one turn to Redis in one write, with every answer right', async () => {
    const redis = new Redis(server.url);
    coalesceRedisWrites(redis);
    await redis.ping();
    const before = await readsProcessed();
    const writes = Array.from({ length: 200 }, (_, i) => redis.set(`k${i}`, `v${i}`));
    await Promise.all(writes);
    const values = await redis.mget(...Array.from({ length: 200 }, (_, i) => `k${i}`));
    // Redis reads once per batch that arrives; the two INFO calls count one read each.
    const reads = (await readsProcessed()) - before;
    expect(reads).toBeLessThanOrEqual(6);
    expect(values).toEqual(Array.from({ length: 200 }, (_, i) => `v${i}`));
    redis.disconnect();
  });

  it('sends commands issued from promise continuations and from setImmediate callbacks', async () => {
    const redis = new Redis(server.url);
    coalesceRedisWrites(redis);
    await redis.ping();
    const fromContinuation = Promise.resolve().then(() => redis.incr('counter'));
    const fromImmediate = new Promise<number>((resolve, reject) =>
      setImmediate(() => {
        redis.incr('counter').then(resolve, reject);
      }),
    );
    const results = await Promise.all([fromContinuation, fromImmediate]);
    expect(results.sort()).toEqual([1, 2]);
    redis.disconnect();
  });

  it('still fails fast while disconnected (no offline queue)', async () => {
    const redis = new Redis(server.url, { enableOfflineQueue: false, lazyConnect: true });
    coalesceRedisWrites(redis);
    await expect(redis.get('x')).rejects.toThrow(/enableOfflineQueue/);
    redis.disconnect();
  });
});

describe('coalesceUntilEndOfTurn', () => {
  it('delivers replies written in one turn as one chunk, and uncorks at the end of the turn', async () => {
    const chunks: string[] = [];
    const listener = net.createServer((socket) => {
      coalesceUntilEndOfTurn(socket);
      coalesceUntilEndOfTurn(socket);
      socket.write('250 one\r\n');
      socket.write('250 two\r\n');
      socket.write('354 three\r\n');
      expect(socket.writableCorked).toBe(1);
      setImmediate(() => {
        expect(socket.writableCorked).toBe(0);
        socket.end();
      });
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const client = net.connect((listener.address() as net.AddressInfo).port, '127.0.0.1');
    client.setEncoding('latin1');
    client.on('data', (chunk: string) => chunks.push(chunk));
    await waitFor(() => client.readableEnded || chunks.join('').includes('354'), { what: 'replies' });
    expect(chunks).toEqual(['250 one\r\n250 two\r\n354 three\r\n']);
    client.destroy();
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  });
});
