import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUTBOUND_QUEUE } from '../../src/shared/keys.js';
import { createSuppressionStore } from '../../src/suppression/index.js';
import { runCli } from '../helpers/cli-run.js';
import { startFakeSes, type FakeSes } from '../helpers/fake-ses.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

/** More than the handful (10) that goes without confirmation. */
const MANY = 12;

describe('ses-relay bulk operations ask first (a real process, stdin not a terminal)', () => {
  const prefix = uniquePrefix('cli-bulk');
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const store = createSuppressionStore({ redis, prefix });
  const queue = new Queue(OUTBOUND_QUEUE, { connection: redis, prefix });
  let ses: FakeSes;
  let env: Record<string, string>;

  beforeAll(async () => {
    ses = await startFakeSes();
    env = { REDIS_PREFIX: prefix, SES_ENDPOINT: ses.url };
    // Failed jobs, as a worker leaves them after SES refused them for good.
    const failing = new Worker(
      OUTBOUND_QUEUE,
      () => Promise.reject(new UnrecoverableError('MessageRejected')),
      { connection: redis.duplicate(), prefix },
    );
    for (let i = 0; i < MANY; i++) await queue.add('send', { n: i }, { attempts: 1 });
    await waitFor(async () => (await queue.getFailedCount()) === MANY, { what: 'the jobs to fail' });
    await failing.close();
    for (let i = 0; i < MANY; i++) await store.suppress(`user${i}@example.com`, { reason: 'bounce' });
  });
  afterAll(async () => {
    await ses.stop();
    await queue.close();
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('retry-failed: --dry-run counts and changes nothing; more than 10 need --yes', async () => {
    const dry = await runCli(['queue', 'retry-failed', '--dry-run'], env);
    expect(dry).toMatchObject({
      code: 0,
      stdout: `would retry ${MANY} failed messages (${MANY} failed in all); nothing changed\n`,
    });
    const refused = await runCli(['queue', 'retry-failed'], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      `ses-relay: this would retry ${MANY} failed messages: add --yes to confirm, or --dry-run to see the count and change nothing\n`,
    );
    expect(await queue.getFailedCount()).toBe(MANY);

    const few = await runCli(['queue', 'retry-failed', '--limit', '2'], env);
    expect(few).toMatchObject({ code: 0, stdout: 'retried 2 failed messages\n' });
    const rest = await runCli(['queue', 'retry-failed', '--yes', '--json'], env);
    expect(JSON.parse(rest.stdout)).toEqual({ retried: MANY - 2, skipped: 0 });
    expect(await queue.getFailedCount()).toBe(0);
  });

  it('export --to-ses: --dry-run counts and calls no SES; more than 10 need --yes', async () => {
    const dry = await runCli(['suppression', 'export', '--to-ses', '--dry-run'], env);
    expect(dry).toMatchObject({
      code: 0,
      stdout: `would put ${MANY} entries on the SES account suppression list (0 expiring entries kept local); nothing changed\n`,
    });
    const refused = await runCli(['suppression', 'export', '--to-ses'], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`this would put ${MANY} entries on the SES account suppression list`);
    expect(ses.received).toBe(0);

    const pushed = await runCli(['suppression', 'export', '--to-ses', '--yes', '--rate', '100'], env);
    expect(pushed.code).toBe(0);
    expect(ses.suppressionPuts).toHaveLength(MANY);
  });
});
