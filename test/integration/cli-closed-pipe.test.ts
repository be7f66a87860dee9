import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSuppressionStore } from '../../src/suppression/index.js';
import { startCli } from '../helpers/cli-run.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';

describe('ses-relay with stdout and stderr on one pipe whose reader leaves (… 2>&1 | head -1)', () => {
  const prefix = uniquePrefix('cli-closed-pipe');
  const redis = new Redis(TEST_REDIS_URL);
  /** Far more than a pipe buffer holds, so the command is still writing when the reader leaves. */
  const entries = 20_000;

  beforeAll(async () => {
    const store = createSuppressionStore({ redis, prefix });
    const records = Array.from({ length: entries }, (_, i) => ({
      address: `pipe-${i}@example.com`,
      details: { reason: 'manual' as const },
    }));
    expect((await store.importMany(records)).added).toBe(entries);
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('ends quietly, exit 0, when its note on stderr meets the closed pipe too', async () => {
    // One entry short of all of them: the list then says on stderr that there are more.
    const running = startCli(['suppression', 'list', '--limit', String(entries - 1)], {
      REDIS_PREFIX: prefix,
    });
    // The reader takes the first chunk and closes the pipe, which both streams write into.
    running.child.stdout!.once('data', () => {
      running.child.stdout!.destroy();
      running.child.stderr!.destroy();
    });
    const result = await running.done;
    expect(result.stdout.startsWith('ADDRESS')).toBe(true);
    expect(result.code).toBe(0);
  });
});
