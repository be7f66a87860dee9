import { describe, expect, it } from 'vitest';
import { evaluateEventDestinations } from '../../src/doctor/checks/configuration-set.js';
import { evaluateEvictionPolicy } from '../../src/doctor/checks/redis-memory.js';
import { evaluatePersistence } from '../../src/doctor/checks/redis-persistence.js';
import { evaluateWaitReplicas } from '../../src/doctor/checks/redis-replicas.js';
import { evaluateRedisServer, redisCli } from '../../src/doctor/checks/redis-server.js';
import { versionAtLeast } from '../../src/shared/redis-checks.js';
import { candidateIdentities, evaluateIdentity } from '../../src/doctor/checks/sender-identities.js';
import { evaluateAccount, explainSesFailure } from '../../src/doctor/checks/ses-account.js';
import { evaluateSnsTopics } from '../../src/doctor/checks/sns-topics.js';
import { formatReport, runChecks, type DoctorCheck, type DoctorContext } from '../../src/doctor/index.js';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:ses-events';

describe('doctor: Redis', () => {
  it('compares versions numerically', () => {
    expect(versionAtLeast('7.0.15', '6.2')).toBe(true);
    expect(versionAtLeast('6.10.0', '6.9')).toBe(true);
    expect(versionAtLeast('6.0.16', '6.2')).toBe(false);
  });

  it.each([
    ['7.2.4', 'master', 'ok'],
    ['6.2.14', 'master', 'warn'],
    ['6.0.9', 'master', 'fail'],
    ['7.2.4', 'slave', 'fail'],
  ])('Redis %s as %s is %s', (version, role, status) => {
    expect(evaluateRedisServer({ redis_version: version, role }, 'h:1')[0]?.status).toBe(status);
  });

  it('accepts only noeviction, and says how to set it', () => {
    expect(evaluateEvictionPolicy('noeviction', 'redis-cli').status).toBe('ok');
    const lru = evaluateEvictionPolicy('volatile-lru', redisCli('redis://:secret@cache.internal:6380/2'));
    expect(lru.status).toBe('fail');
    expect(lru.fix).toContain('redis-cli -h cache.internal -p 6380 CONFIG SET maxmemory-policy noeviction');
    expect(lru.fix).not.toContain('secret');
    expect(redisCli('rediss://cache.internal')).toBe('redis-cli -h cache.internal -p 6379 --tls');
  });

  it('names the node when REDIS_URL alone does not say which one it is (Sentinel, Cluster)', () => {
    const lru = evaluateEvictionPolicy('allkeys-lru', 'redis-cli -h 10.0.0.3 -p 7002', '10.0.0.3:7002');
    expect(lru.message).toMatch(/^10\.0\.0\.3:7002: maxmemory-policy is allkeys-lru/);
    expect(lru.fix).toContain('redis-cli -h 10.0.0.3 -p 7002 CONFIG SET maxmemory-policy noeviction');
    const bare = evaluatePersistence(
      { aof_enabled: '0', connected_slaves: '0' },
      'redis-cli',
      '10.0.0.3:7002',
    );
    expect(bare.message).toMatch(/^10\.0\.0\.3:7002: neither AOF nor a replica/);
    expect(redisCli('unix:///run/redis/redis.sock')).toBe('redis-cli -s /run/redis/redis.sock');
  });

  it('fails REDIS_WAIT_REPLICAS above the connected replicas, naming the node', () => {
    expect(evaluateWaitReplicas({ connected_slaves: '2' }, 2).status).toBe('ok');
    const short = evaluateWaitReplicas({ connected_slaves: '1' }, 2, '10.0.0.3:7002');
    expect(short.status).toBe('fail');
    expect(short.message).toMatch(
      /^10\.0\.0\.3:7002: REDIS_WAIT_REPLICAS is 2 but 1 replica\(s\) are connected/,
    );
    expect(evaluateWaitReplicas({}, 1).status).toBe('fail');
  });

  it('warns without AOF or a replica', () => {
    expect(evaluatePersistence({ aof_enabled: '0', connected_slaves: '0' }, 'redis-cli').status).toBe('warn');
    expect(evaluatePersistence({ aof_enabled: '1', connected_slaves: '0' }, 'redis-cli').status).toBe('ok');
    expect(evaluatePersistence({ aof_enabled: '0', connected_slaves: '2' }, 'redis-cli').status).toBe('ok');
  });
});

describe('doctor: SES', () => {
  const healthy = {
    maxSendRate: 14,
    max24HourSend: 50_000,
    sentLast24Hours: 10,
    sendingEnabled: true,
    productionAccess: true,
    enforcementStatus: 'HEALTHY',
    readAt: 0,
  };

  it('reports the quota, and warns or fails on what limits sending', () => {
    expect(evaluateAccount(healthy, 'eu-west-1')).toEqual([
      {
        check: 'ses.account',
        status: 'ok',
        message: 'SES eu-west-1: max 14 recipients/s, 10/50000 sent in 24 h',
      },
    ]);
    const troubled = evaluateAccount(
      {
        ...healthy,
        max24HourSend: Infinity,
        sendingEnabled: false,
        productionAccess: false,
        enforcementStatus: 'PROBATION',
      },
      'eu-west-1',
    );
    expect(troubled.map((r) => `${r.status} ${r.check}`)).toEqual([
      'ok ses.account',
      'fail ses.sending',
      'warn ses.sandbox',
      'warn ses.enforcement',
    ]);
    expect(troubled[0]?.message).toContain('10/unlimited');
  });

  it('explains why SES could not be asked', () => {
    const noCredentials = Object.assign(new Error('Could not load credentials'), {
      name: 'CredentialsProviderError',
    });
    expect(explainSesFailure(noCredentials, 'us-east-1').fix).toContain('AWS_PROFILE');
    const denied = Object.assign(new Error('not authorized'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 403 },
    });
    expect(explainSesFailure(denied, 'us-east-1').fix).toContain('ses:GetAccount');
  });

  it('looks for an address identity before its domain', () => {
    expect(candidateIdentities('app@example.com')).toEqual(['app@example.com', 'example.com']);
    expect(candidateIdentities('@example.com')).toEqual(['example.com']);
  });

  it('looks for every parent domain too, since a verified domain covers its subdomains', () => {
    expect(candidateIdentities('app@mail.eu.example.com')).toEqual([
      'app@mail.eu.example.com',
      'mail.eu.example.com',
      'eu.example.com',
      'example.com',
    ]);
    expect(candidateIdentities('@mail.example.com')).toEqual(['mail.example.com', 'example.com']);
  });

  it.each([
    ['@example.com', undefined, 'fail', 'no SES identity'],
    [
      '@example.com',
      { identity: 'example.com', verified: false, dkimStatus: 'PENDING' },
      'fail',
      'not verified',
    ],
    [
      '@example.com',
      { identity: 'example.com', verified: true, dkimStatus: 'FAILED' },
      'warn',
      'DKIM is FAILED',
    ],
    [
      'app@example.com',
      { identity: 'app@example.com', verified: true, dkimStatus: 'NOT_STARTED' },
      'warn',
      'may fail DMARC',
    ],
    [
      '@example.com',
      { identity: 'example.com', verified: true, dkimStatus: 'SUCCESS' },
      'ok',
      'DKIM SUCCESS',
    ],
  ])('sender %s with %j is %s', (entry, facts, status, text) => {
    const result = evaluateIdentity(entry, facts, 'us-east-1');
    expect(result.status).toBe(status);
    expect(result.message).toContain(text);
    if (status !== 'ok') expect(result.fix).toBeDefined();
  });

  it('wants BOUNCE and COMPLAINT published to an allowed SNS topic', () => {
    const sns = (types: string[], arn = TOPIC, enabled = true) => ({
      Name: 'd',
      Enabled: enabled,
      MatchingEventTypes: types as never[],
      SnsDestination: { TopicArn: arn },
    });
    expect(
      evaluateEventDestinations('cs', [sns(['BOUNCE', 'COMPLAINT', 'DELIVERY'])], [TOPIC])[0]?.status,
    ).toBe('ok');
    const missing = evaluateEventDestinations(
      'cs',
      [sns(['BOUNCE']), sns(['COMPLAINT'], TOPIC, false)],
      [TOPIC],
    );
    expect(missing[0]?.message).toContain('publishes no COMPLAINT events to SNS');
    const stranger = evaluateEventDestinations(
      'cs',
      [sns(['BOUNCE', 'COMPLAINT'], `${TOPIC}-other`)],
      [TOPIC],
    );
    expect(stranger[0]?.message).toContain('which SNS_TOPIC_ARNS does not list');
    expect(evaluateEventDestinations('cs', [sns(['BOUNCE', 'COMPLAINT'])], [])[0]?.message).toContain(
      'no DELIVERY events',
    );
  });

  it('warns when no SNS topic is allowed', () => {
    expect(evaluateSnsTopics([])[0]?.message).toBe(
      'no SNS topics configured: bounces and complaints will not reach the suppression list',
    );
    expect(evaluateSnsTopics([TOPIC])[0]?.status).toBe('ok');
    expect(evaluateSnsTopics([], 'https://sqs.eu-west-1.amazonaws.com/123456789012/q')[0]?.message).toContain(
      'unless SQS_QUEUE_URL receives them with raw message delivery',
    );
  });
});

describe('doctor: runner', () => {
  const ctx = {} as DoctorContext;
  const check = (id: string, status: 'ok' | 'fail', needs?: string[]): DoctorCheck => ({
    id,
    ...(needs ? { needs } : {}),
    run: () => Promise.resolve([{ check: id, status, message: `${id} ${status}` }]),
  });

  it('skips a check whose prerequisite failed, and counts a throwing check as failed', async () => {
    const report = await runChecks(
      [
        check('a', 'fail'),
        check('b', 'ok', ['a']),
        check('c', 'ok'),
        { id: 'd', run: () => Promise.reject(new Error('boom')) },
      ],
      ctx,
    );
    expect(report.results.map((r) => `${r.status} ${r.check}`)).toEqual([
      'fail a',
      'skip b',
      'ok c',
      'fail d',
    ]);
    expect(report.results[3]?.message).toBe('check failed: boom');
    expect(report).toMatchObject({ healthy: false, counts: { ok: 1, warn: 0, fail: 2, skip: 1 } });
    expect(formatReport(report).split('\n').at(-1)).toBe('1 ok, 0 warning(s), 2 failure(s), 1 skipped');
  });
});
