import { afterAll, describe, expect, it } from 'vitest';
import { startFakeSes } from '../helpers/fake-ses.js';
import { startGateway } from '../helpers/gateway.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis.js';
import { sendMail, simpleMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';
import { Redis } from 'ioredis';

const message = { from: 'app@example.com', to: ['user@example.net'], message: simpleMessage() };

describe('Redis durability settings', () => {
  const servers: PrivateRedis[] = [];
  afterAll(async () => {
    for (const server of servers) await server.stop();
  });

  it('refuses to start when Redis may evict keys, naming the fix', async () => {
    const redis = await startPrivateRedis(['--maxmemory', '100mb', '--maxmemory-policy', 'allkeys-lru']);
    servers.push(redis);
    await expect(startGateway({ REDIS_URL: redis.url })).rejects.toThrow(
      /maxmemory-policy is "allkeys-lru".*CONFIG SET maxmemory-policy noeviction/,
    );
  });

  it('starts while Redis is down, answering 451 until it is back', async () => {
    const redis = await startPrivateRedis();
    servers.push(redis);
    await redis.kill();
    const gw = await startGateway({ REDIS_URL: redis.url, ROLES: 'smtp' });
    try {
      expect(gw.logs.some((l) => String(l.msg).startsWith('redis.unreachable_at_start'))).toBe(true);
      const refused = await sendMail(gw.smtpPort, message);
      expect(refused.rcpt[0]?.code).toBe(451);
      await redis.start();
      await waitFor(async () => (await sendMail(gw.smtpPort, message)).data?.code === 250, {
        timeoutMs: 15_000,
        intervalMs: 200,
      });
    } finally {
      await gw.stop();
    }
  });

  it('warns when neither AOF nor a replica protects acknowledged mail, and not with AOF', async () => {
    const plain = await startPrivateRedis();
    const aof = await startPrivateRedis(['--appendonly', 'yes', '--appendfsync', 'everysec']);
    servers.push(plain, aof);
    const without = await startGateway({ REDIS_URL: plain.url, ROLES: 'http' });
    const withAof = await startGateway({ REDIS_URL: aof.url, ROLES: 'http' });
    try {
      expect(without.logs.some((l) => String(l.msg).startsWith('redis.not_durable'))).toBe(true);
      expect(withAof.logs.some((l) => String(l.msg).startsWith('redis.not_durable'))).toBe(false);
    } finally {
      await without.stop();
      await withAof.stop();
    }
  });

  it('with REDIS_WAIT_REPLICAS answers 250 once a replica has the message, 451 when none acknowledges', async () => {
    const primary = await startPrivateRedis();
    const replica = await startPrivateRedis(['--replicaof', '127.0.0.1', String(primary.port)]);
    servers.push(primary, replica);
    const probe = new Redis(primary.url);
    await waitFor(async () => (await probe.info('replication')).includes('connected_slaves:1'), {
      what: 'the replica',
    });
    const ses = await startFakeSes();
    const gw = await startGateway(
      { REDIS_URL: primary.url, REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT: '300ms', ROLES: 'smtp' },
      { ses },
    );
    try {
      // The replica acknowledges writes once its initial sync is over.
      await waitFor(
        async () => {
          await probe.set('probe', '1');
          return Number(await probe.call('WAIT', 1, 200)) === 1;
        },
        { timeoutMs: 20_000, what: 'the replica to acknowledge writes' },
      );
      const accepted = await sendMail(gw.smtpPort, message);
      expect(accepted.data?.code).toBe(250);
      await replica.kill();
      await waitFor(async () => (await probe.info('replication')).includes('connected_slaves:0'));
      const refused = await sendMail(gw.smtpPort, message);
      expect(refused.data?.code).toBe(451);
      expect(refused.data?.text).toMatch(/^4\.3\.0 /);
    } finally {
      probe.disconnect();
      await gw.stop();
      await ses.stop();
    }
  });
});
