import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/doctor/index.js';
import { runCli } from '../helpers/cli-run.js';
import { startFakeSes, type FakeSes } from '../helpers/fake-ses.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis.js';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:ses-events';

interface Report {
  results: CheckResult[];
  healthy: boolean;
}

describe('ses-relay doctor (a real process, real Redis, fake SES)', () => {
  let ses: FakeSes;
  let lru: PrivateRedis;
  let env: Record<string, string>;

  beforeAll(async () => {
    [ses, lru] = await Promise.all([
      startFakeSes(),
      startPrivateRedis(['--maxmemory-policy', 'allkeys-lru']),
    ]);
  });
  beforeEach(() => {
    ses.reset();
    ses.identities.set('example.com', { VerifiedForSendingStatus: true, DkimStatus: 'SUCCESS' });
    ses.identities.set('app@example.org', { VerifiedForSendingStatus: true, DkimStatus: 'SUCCESS' });
    ses.configurationSets.set('relay-events', {
      eventDestinations: [
        {
          Name: 'to-sns',
          Enabled: true,
          MatchingEventTypes: ['BOUNCE', 'COMPLAINT', 'DELIVERY'],
          SnsDestination: { TopicArn: TOPIC },
        },
      ],
    });
    env = {
      REDIS_PREFIX: 't-cli-doctor',
      SES_ENDPOINT: ses.url,
      SMTP_ALLOWED_SENDERS: '@example.com,app@example.org',
      SES_CONFIGURATION_SET: 'relay-events',
      SNS_TOPIC_ARNS: TOPIC,
    };
  });
  afterAll(async () => {
    await Promise.all([ses.stop(), lru.stop()]);
  });

  const statuses = (report: Report) => report.results.map((r) => `${r.status} ${r.check}`);

  it('passes a sound deployment, with only the warnings the environment explains', async () => {
    const result = await runCli(['doctor', '--json'], env);
    const report = JSON.parse(result.stdout) as Report;
    expect(result.code).toBe(0);
    expect(report.healthy).toBe(true);
    expect(statuses(report)).toEqual([
      'ok redis.server',
      'ok redis.eviction',
      // The shared test Redis runs without AOF or a replica.
      expect.stringMatching(/^(ok|warn) redis\.persistence$/),
      'ok ses.account',
      // The test points SES_ENDPOINT at the fake SES.
      'warn ses.endpoint',
      'ok ses.identity',
      'ok ses.identity',
      'ok ses.configuration-set',
      'ok sns.topics',
    ]);
    expect(report.results.find((r) => r.check === 'ses.account')?.message).toMatch(
      new RegExp(`^SES at ${ses.url} \\(SES_ENDPOINT\\): max 14 recipients/s`),
    );
    expect(report.results.find((r) => r.check === 'ses.identity')?.message).toBe(
      'sender domain example.com: verified (example.com), DKIM SUCCESS',
    );
  });

  it('fails with exit 1 on an unverified sender and a missing configuration set, each with its fix', async () => {
    ses.identities.set('example.com', { VerifiedForSendingStatus: false, DkimStatus: 'PENDING' });
    ses.configurationSets.clear();
    ses.account = { ...ses.account, ProductionAccessEnabled: false };
    const result = await runCli(['doctor'], { ...env, SNS_TOPIC_ARNS: '' });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /^fail {2}ses\.identity +sender domain example\.com: identity example\.com is not verified/m,
    );
    expect(result.stdout).toContain(
      'fix: publish the DKIM CNAME records shown by: aws sesv2 get-email-identity --email-identity example.com',
    );
    expect(result.stdout).toMatch(/^warn {2}ses\.sandbox +the account is in the SES sandbox/m);
    expect(result.stdout).toMatch(
      /^fail {2}ses\.configuration-set +configuration set relay-events does not exist/m,
    );
    expect(result.stdout).toMatch(
      /^warn {2}sns\.topics +no SNS topics configured: bounces and complaints will not reach the suppression list$/m,
    );
    expect(result.stdout).toMatch(/\d+ ok, \d+ warning\(s\), 2 failure\(s\)\n$/);
  });

  it('signs its SES calls with keys given through *_FILE, as the worker does', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-relay-doctor-'));
    fs.writeFileSync(path.join(dir, 'id'), 'AKIDFROMFILE\n');
    fs.writeFileSync(path.join(dir, 'secret'), 'secret-from-file\n');
    const result = await runCli(['doctor', '--json'], {
      ...env,
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
      AWS_ACCESS_KEY_ID_FILE: path.join(dir, 'id'),
      AWS_SECRET_ACCESS_KEY_FILE: path.join(dir, 'secret'),
    });
    fs.rmSync(dir, { recursive: true });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(ses.accessKeyIds.length).toBeGreaterThan(0);
    expect(new Set(ses.accessKeyIds)).toEqual(new Set(['AKIDFROMFILE']));
  });

  it('fails a Redis that may evict, with the exact command to fix it', async () => {
    const result = await runCli(['doctor', '--json'], { ...env, REDIS_URL: lru.url });
    const report = JSON.parse(result.stdout) as Report;
    expect(result.code).toBe(1);
    expect(report.results.find((r) => r.check === 'redis.eviction')).toEqual({
      check: 'redis.eviction',
      status: 'fail',
      message:
        'maxmemory-policy is allkeys-lru: Redis may delete queued mail and suppression entries under memory pressure',
      fix:
        `redis-cli -h 127.0.0.1 -p ${lru.port} CONFIG SET maxmemory-policy noeviction, then ` +
        `redis-cli -h 127.0.0.1 -p ${lru.port} CONFIG REWRITE to keep it across restarts; ` +
        'or set `maxmemory-policy noeviction` in redis.conf (managed Redis: in its parameter group)',
    });
  });

  it('fails REDIS_WAIT_REPLICAS above the replicas Redis has, which would refuse every message', async () => {
    // The shared test Redis has no replica.
    const result = await runCli(['doctor', '--json'], { ...env, REDIS_WAIT_REPLICAS: '1' });
    const report = JSON.parse(result.stdout) as Report;
    expect({ code: result.code, healthy: report.healthy }).toEqual({ code: 1, healthy: false });
    expect(report.results.filter((r) => r.check === 'redis.replicas')).toEqual([
      {
        check: 'redis.replicas',
        status: 'fail',
        message:
          'REDIS_WAIT_REPLICAS is 1 but 0 replica(s) are connected: every message waits REDIS_WAIT_TIMEOUT and is refused 451 4.3.0',
        fix: "connect 1 replica(s) (replicaof on each, or the managed service's replica count), or lower REDIS_WAIT_REPLICAS to 0",
      },
    ]);
  });
});
