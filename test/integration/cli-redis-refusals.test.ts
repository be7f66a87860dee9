import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli-run.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis.js';

const env = (url: string) => ({ REDIS_URL: url, REDIS_PREFIX: 't-cli-redis-refusals' });

describe('ses-relay when Redis refuses it (a real process)', () => {
  let locked: PrivateRedis;
  let full: PrivateRedis;

  beforeAll(async () => {
    [locked, full] = await Promise.all([
      startPrivateRedis(['--requirepass', 'right-password']),
      startPrivateRedis(['--maxmemory-policy', 'noeviction']),
    ]);
    // Every write is then over the limit.
    const admin = new Redis(full.url);
    await admin.config('SET', 'maxmemory', '1');
    admin.disconnect();
  });
  afterAll(async () => {
    await Promise.all([locked.stop(), full.stop()]);
  });

  it('names Redis and REDIS_URL when the password is missing or wrong, exit 1', async () => {
    const at = `127.0.0.1:${locked.port}`;
    const [missing, wrong, right] = await Promise.all([
      runCli(['queue', 'stats'], env(locked.url)),
      runCli(['suppression', 'check', 'a@example.com'], env(`redis://:wrong-password@${at}`)),
      runCli(['suppression', 'check', 'a@example.com'], env(`redis://:right-password@${at}`)),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      new RegExp(`^ses-relay: Redis at ${at} wants a password, and REDIS_URL gives none .*: NOAUTH`, 'm'),
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(
      new RegExp(`^ses-relay: Redis at ${at} refused the user or password in REDIS_URL: WRONGPASS`, 'm'),
    );
    // The password itself is never repeated.
    expect(wrong.stderr).not.toContain('wrong-password');
    expect(right).toMatchObject({ code: 0, stdout: 'a@example.com is not suppressed\n' });
  });

  it('says that Redis is at its maxmemory when it refuses a write, exit 1', async () => {
    const result = await runCli(['suppression', 'add', 'a@example.com'], env(full.url));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(
        `^ses-relay: Redis at 127\\.0\\.0\\.1:${full.port} is at its maxmemory and refuses writes: OOM`,
        'm',
      ),
    );
  });
});
