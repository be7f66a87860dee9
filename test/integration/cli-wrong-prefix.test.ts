import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli-run.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';

describe('ses-relay against settings or a prefix no gateway uses (a real process)', () => {
  const prefix = uniquePrefix('cli-unused');
  const redis = new Redis(TEST_REDIS_URL);
  const unused = `ses-relay: warning: no gateway has used REDIS_PREFIX "${prefix}" on this Redis (no worker state, no messages): check REDIS_PREFIX and REDIS_URL`;

  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('warns about a mistyped setting on any command, one line each, keeping the exit code', async () => {
    const result = await runCli(['suppression', 'check', 'someone@example.com'], {
      REDIS_PREFIX: prefix,
      REDIS_PREFX: 'typo',
      SMTP_MAX_MESAGE_BYTES: '10',
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('someone@example.com is not suppressed\n');
    expect(result.stderr.split('\n')).toEqual([
      'ses-relay: warning: REDIS_PREFX is not a setting and is ignored (did you mean REDIS_PREFIX?)',
      'ses-relay: warning: SMTP_MAX_MESAGE_BYTES is not a setting and is ignored (did you mean SMTP_MAX_MESSAGE_BYTES?)',
      '',
    ]);
  });

  it('warns that no gateway uses the prefix on queue stats, pause and resume, and still runs them', async () => {
    const stats = await runCli(['queue', 'stats'], { REDIS_PREFIX: prefix });
    expect(stats.code).toBe(0);
    expect(stats.stderr.split('\n')).toContain(unused);

    const paused = await runCli(['queue', 'pause'], { REDIS_PREFIX: prefix });
    expect(paused).toMatchObject({ code: 0, stdout: 'sending paused: paused by an operator\n' });
    expect(paused.stderr.split('\n')).toContain(unused);
    // The pause itself (a hold, BullMQ's queue metadata) is no sign of a gateway.
    const resumed = await runCli(['queue', 'resume'], { REDIS_PREFIX: prefix });
    expect(resumed.code).toBe(0);
    expect(resumed.stderr.split('\n')).toContain(unused);
  });

  it('says the SES account was not read yet, not "unlimited", before any worker read it', async () => {
    const stats = await runCli(['queue', 'stats'], { REDIS_PREFIX: prefix });
    expect(stats.code).toBe(0);
    expect(stats.stdout).toContain(
      '24-hour quota: 0 recipients sent or reserved by this deployment; SES account not read yet\n',
    );
    expect(stats.stdout).not.toContain('unlimited');
  });

  it('does not warn once a worker has published its state under the prefix', async () => {
    await redis.hset(`${prefix}:reputation`, 'reading', '{}');
    const stats = await runCli(['queue', 'stats'], { REDIS_PREFIX: prefix });
    expect(stats.code).toBe(0);
    expect(stats.stderr).toBe('');
  });
});
