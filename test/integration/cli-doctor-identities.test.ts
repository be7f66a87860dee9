import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/doctor/index.js';
import { runCli } from '../helpers/cli-run.js';
import { startFakeSes, type FakeSes } from '../helpers/fake-ses.js';

interface Report {
  results: CheckResult[];
  healthy: boolean;
}

describe('ses-relay doctor on sender identities (a real process, fake SES)', () => {
  let ses: FakeSes;
  const env = (extra: Record<string, string>) => ({
    REDIS_PREFIX: 't-cli-doctor-identities',
    SNS_TOPIC_ARNS: 'arn:aws:sns:us-east-1:123456789012:ses-events',
    ...extra,
    SES_ENDPOINT: ses.url,
  });
  const identityResults = (stdout: string) =>
    (JSON.parse(stdout) as Report).results.filter((r) => r.check === 'ses.identity');

  beforeAll(async () => {
    ses = await startFakeSes();
  });
  beforeEach(() => {
    ses.reset();
    ses.identities.set('example.com', { VerifiedForSendingStatus: true, DkimStatus: 'SUCCESS' });
  });
  afterAll(async () => {
    await ses.stop();
  });

  it('passes senders on a subdomain of a verified domain, which SES lets them send from', async () => {
    const result = await runCli(
      ['doctor', '--json'],
      env({ SMTP_ALLOWED_SENDERS: 'app@mail.example.com,@eu.mail.example.com' }),
    );
    expect(identityResults(result.stdout)).toEqual([
      {
        check: 'ses.identity',
        status: 'ok',
        message: 'sender app@mail.example.com: verified (example.com), DKIM SUCCESS',
      },
      {
        check: 'ses.identity',
        status: 'ok',
        message: 'sender domain eu.mail.example.com: verified (example.com), DKIM SUCCESS',
      },
    ]);
    expect(result.code, result.stdout).toBe(0);
  });

  it('fails a DSN_FROM that is no SES identity, since SES would refuse every DSN', async () => {
    const result = await runCli(
      ['doctor', '--json'],
      env({ SMTP_ALLOWED_SENDERS: '@example.com', DSN_FROM: 'postmaster@example.org' }),
    );
    expect(identityResults(result.stdout)).toEqual([
      expect.objectContaining({
        status: 'ok',
        message: expect.stringMatching(/^sender domain example\.com/),
      }),
      expect.objectContaining({
        status: 'fail',
        message:
          'DSN_FROM postmaster@example.org: no SES identity for it in us-east-1; SES will refuse its mail',
      }),
    ]);
    expect(result.code).toBe(1);
  });
});
