import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli-run.js';
import { startFakeSes, type FakeSes } from '../helpers/fake-ses.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';

describe('ses-relay when SES cannot be reached (a real process, real Redis)', () => {
  const prefix = uniquePrefix('cli-ses-down');
  const redis = new Redis(TEST_REDIS_URL);
  let ses: FakeSes;

  beforeAll(async () => {
    ses = await startFakeSes();
  });
  afterAll(async () => {
    await ses.stop();
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('says it cannot reach SES, naming SES_ENDPOINT, when nothing listens there (not Redis)', async () => {
    // ECONNREFUSED is also what an unreachable Redis gives; Redis is fine here.
    const endpoint = 'http://127.0.0.1:1';
    const result = await runCli(['suppression', 'import', '--from-ses', '--rate', '100'], {
      REDIS_PREFIX: prefix,
      SES_ENDPOINT: endpoint,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `ses-relay: cannot reach SES at ${endpoint} (SES_ENDPOINT): connect ECONNREFUSED 127.0.0.1:1\n`,
    );
  });

  it('prints no AWS SDK Node-version warning on an SES command', async () => {
    ses.suppressedDestinations.push({
      EmailAddress: 'one@example.com',
      Reason: 'BOUNCE',
      LastUpdateTime: new Date('2025-01-02T03:04:05Z'),
    });
    const result = await runCli(['suppression', 'import', '--from-ses', '--rate', '100'], {
      REDIS_PREFIX: prefix,
      SES_ENDPOINT: ses.url,
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('SES account suppression list: 1 added, 0 updated, 0 invalid\n');
  });
});
