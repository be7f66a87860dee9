import net from 'node:net';
import { PassThrough } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createSuppressionStore } from '../../src/suppression/index.js';
import { startCli } from '../helpers/cli-run.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

/** The records an import writes at once (IMPORT_CHUNK_RECORDS in src/ops/suppressions.ts). */
const FIRST_BATCH = 10_000;

/** A TCP proxy to the test Redis that the test can cut, as a network failure would. */
async function startCuttableProxy(): Promise<{ url: string; cut(): Promise<void> }> {
  const target = new URL(TEST_REDIS_URL);
  const sockets: net.Socket[] = [];
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 6379), target.hostname);
    sockets.push(client, upstream);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `redis://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    async cut() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

describe('ses-relay suppression import stopped part-way (a real process)', () => {
  const prefix = uniquePrefix('cli-import-cut');
  const redis = new Redis(TEST_REDIS_URL);
  const store = createSuppressionStore({ redis, prefix });

  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('prints what was written before Redis went away, then the error, exit 1', async () => {
    const proxy = await startCuttableProxy();
    const stdin = new PassThrough();
    const running = startCli(
      ['suppression', 'import', '-'],
      { REDIS_PREFIX: prefix, REDIS_URL: proxy.url },
      stdin,
    );
    const lines = Array.from({ length: FIRST_BATCH }, (_, i) => `user${i}@example.com,bounce\n`);
    stdin.write(`address,reason\n${lines.join('')}`);
    await waitFor(async () => (await store.count()) === FIRST_BATCH, {
      what: 'the first batch to be written',
    });
    await proxy.cut();
    stdin.end('late1@example.com,bounce\nlate2@example.com,bounce\n');

    const result = await running.done;
    expect(result.code).toBe(1);
    const stderr = result.stderr.split('\n');
    const partial = stderr.findIndex((line) =>
      line.startsWith(
        `stdin: stopped part-way by the error below, after ${FIRST_BATCH} added, 0 updated, 0 invalid (${FIRST_BATCH + 3} lines read)`,
      ),
    );
    const error = stderr.findIndex((line) => line.startsWith('ses-relay: cannot reach Redis at '));
    expect(partial).toBeGreaterThanOrEqual(0);
    expect(error).toBeGreaterThan(partial);
  });
});
