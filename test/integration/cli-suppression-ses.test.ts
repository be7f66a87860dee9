import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSuppressionStore } from '../../src/suppression/index.js';
import { runCli } from '../helpers/cli-run.js';
import { startFakeSes, type FakeSes } from '../helpers/fake-ses.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';

describe('ses-relay suppression and the SES account-level list (a real process)', () => {
  const prefix = uniquePrefix('cli-supp-ses');
  const redis = new Redis(TEST_REDIS_URL);
  const store = createSuppressionStore({ redis, prefix });
  let ses: FakeSes;
  let env: Record<string, string>;

  beforeAll(async () => {
    ses = await startFakeSes();
    env = { REDIS_PREFIX: prefix, SES_ENDPOINT: ses.url };
  });
  beforeEach(async () => {
    ses.reset();
    await deleteKeys(redis, prefix);
  });
  afterAll(async () => {
    await ses.stop();
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('imports the SES list page by page, keeping reason and date', async () => {
    ses.suppressionPageSize = 2;
    ses.suppressedDestinations.push(
      { EmailAddress: 'one@example.com', Reason: 'BOUNCE', LastUpdateTime: new Date('2025-01-02T03:04:05Z') },
      {
        EmailAddress: 'two@example.com',
        Reason: 'COMPLAINT',
        LastUpdateTime: new Date('2025-02-03T04:05:06Z'),
      },
      {
        EmailAddress: 'Three@Example.com',
        Reason: 'BOUNCE',
        LastUpdateTime: new Date('2025-03-04T05:06:07Z'),
      },
    );
    const result = await runCli(['suppression', 'import', '--from-ses', '--rate', '100'], env);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('SES account suppression list: 3 added, 0 updated, 0 invalid');
    expect(ses.suppressionListRequests).toEqual([
      { nextToken: undefined, pageSize: 1000 },
      { nextToken: '2', pageSize: 1000 },
    ]);
    expect(await store.get('two@example.com')).toMatchObject({
      reason: 'complaint',
      firstSeen: Date.parse('2025-02-03T04:05:06Z'),
    });
    expect(await store.get('three@example.com')).toMatchObject({ reason: 'bounce' });
  });

  it('pushes every non-expiring entry to SES with its reason, and refuses in privacy mode', async () => {
    await store.suppress('hard@example.com', { reason: 'bounce' });
    await store.suppress('angry@example.com', { reason: 'complaint' });
    await store.suppress('typed@example.com', { reason: 'manual' });
    await store.suppress('soft@example.com', { reason: 'bounce', expiresAt: Date.now() + 86_400_000 });

    const [pushed, refused] = await Promise.all([
      runCli(['suppression', 'export', '--to-ses', '--rate', '100'], env),
      runCli(['suppression', 'export', '--to-ses'], { ...env, SUPPRESSION_HASH_KEY: 'k'.repeat(32) }),
    ]);
    expect(pushed.code).toBe(0);
    expect(pushed.stderr).toContain('pushed 3 to SES, 0 failed, 1 expiring entries kept local');
    expect([...ses.suppressionPuts].sort((a, b) => a.EmailAddress.localeCompare(b.EmailAddress))).toEqual([
      { EmailAddress: 'angry@example.com', Reason: 'COMPLAINT' },
      { EmailAddress: 'hard@example.com', Reason: 'BOUNCE' },
      { EmailAddress: 'typed@example.com', Reason: 'BOUNCE' },
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('privacy mode (SUPPRESSION_HASH_KEY) stores hashes');
  });

  it('names SES_ENDPOINT, not the region, when SES refuses', async () => {
    // An endpoint that refuses every call, as SES does for keys without the permission.
    const refusing = http.createServer((_req, res) => {
      res
        .writeHead(403, { 'content-type': 'application/json', 'x-amzn-errortype': 'AccessDeniedException' })
        .end(JSON.stringify({ message: 'not allowed here' }));
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`;
    try {
      const result = await runCli(['suppression', 'import', '--from-ses'], {
        ...env,
        SES_ENDPOINT: endpoint,
      });
      expect(result.code).toBe(1);
      // Line by line: the AWS SDK may print a warning about the Node version first.
      expect(result.stderr.split('\n')).toContain(
        `ses-relay: SES (${endpoint}): AccessDeniedException: not allowed here`,
      );
      expect(result.stderr).not.toContain('us-east-1');
    } finally {
      refusing.closeAllConnections();
      await new Promise<void>((resolve) => refusing.close(() => resolve()));
    }
  });
});
