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

  it('with every role, starts while Redis is down (SMTP answering 451), then takes and sends mail once it is back', async () => {
    const redis = await startPrivateRedis();
    servers.push(redis);
    await redis.kill();
    // The worker's start-up reads wait for Redis only a bounded time; the SMTP port opens first.
    const starting = startGateway({ REDIS_URL: redis.url });
    const gw = await Promise.race([
      starting,
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 25_000).unref()),
    ]);
    try {
      expect(gw, 'start() had not returned 25 s after it began').toBeDefined();
      expect((await sendMail(gw!.smtpPort, message)).rcpt[0]?.code).toBe(451);
      await redis.start();
      await waitFor(async () => (await sendMail(gw!.smtpPort, message)).data?.code === 250, {
        timeoutMs: 15_000,
        intervalMs: 200,
        what: 'intake to take mail',
      });
      await waitFor(() => gw!.ses.sends.length > 0, { timeoutMs: 15_000, what: 'the worker to send it' });
    } finally {
      // A start still waiting for Redis completes now that it is back, and is stopped.
      await redis.start();
      await (gw ?? (await starting)).stop();
    }
  }, 60_000);

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

  it('warns at start-up when REDIS_WAIT_REPLICAS asks for more replicas than are connected', async () => {
    const plain = await startPrivateRedis();
    servers.push(plain);
    const waiting = await startGateway({ REDIS_URL: plain.url, ROLES: 'http', REDIS_WAIT_REPLICAS: '1' });
    const notWaiting = await startGateway({ REDIS_URL: plain.url, ROLES: 'http' });
    try {
      const warning = waiting.logs.find((l) => String(l.msg).startsWith('redis.replicas_missing'));
      expect(warning?.msg).toMatch(/REDIS_WAIT_REPLICAS is 1 but fewer replicas are connected/);
      expect(warning?.replicas).toEqual([expect.stringMatching(/: 0$/)]);
      expect(notWaiting.logs.some((l) => String(l.msg).startsWith('redis.replicas_missing'))).toBe(false);
    } finally {
      await waiting.stop();
      await notWaiting.stop();
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

  it('with REDIS_WAIT_REPLICAS and a worker in the process, never sends a message it answered 451 for', async () => {
    const primary = await startPrivateRedis();
    const replica = await startPrivateRedis(['--replicaof', '127.0.0.1', String(primary.port)]);
    servers.push(primary, replica);
    const probe = new Redis(primary.url);
    // All roles, as the default ROLES=smtp,worker,http runs them.
    const gw = await startGateway({
      REDIS_URL: primary.url,
      REDIS_WAIT_REPLICAS: '1',
      REDIS_WAIT_TIMEOUT: '1s',
    });
    try {
      await waitFor(
        async () => {
          await probe.set('probe', '1');
          return Number(await probe.call('WAIT', 1, 200)) === 1;
        },
        { timeoutMs: 20_000, what: 'the replica to acknowledge writes' },
      );
      const accepted = await sendMail(gw.smtpPort, {
        from: 'app@example.com',
        to: ['user@example.net'],
        message: simpleMessage({ subject: 'acknowledged by the replica' }),
      });
      expect(accepted.data?.code).toBe(250);
      // Held back only until the replica acknowledged: sent at once, not when its delay ends (15 s:
      // twice SMTP_INTAKE_TIMEOUT and 5 s, producer.ts).
      await waitFor(() => gw.ses.sends.length === 1, {
        timeoutMs: 10_000,
        what: 'the accepted message at SES',
      });

      await replica.kill();
      await waitFor(async () => (await probe.info('replication')).includes('connected_slaves:0'));
      const refused = await sendMail(gw.smtpPort, {
        from: 'app@example.com',
        to: ['user@example.net'],
        message: simpleMessage({ subject: 'refused with 451' }),
      });
      expect(refused.data?.code).toBe(451);
      // Removed while it was still held back: no job of it is left, to be sent now or later.
      const queueId = gw.logs.findLast((l) => l.msg === 'smtp.queue_failed')?.queueId;
      expect(queueId).toEqual(expect.any(String));
      expect(await gw.redis.exists(`${gw.config.REDIS_PREFIX}:outbound:${String(queueId)}`)).toBe(0);
      const subjects = gw.ses.sends.map((send) => /^Subject: (.*)$/m.exec(send.raw.toString('latin1'))?.[1]);
      expect(subjects).toEqual(['acknowledged by the replica']);
    } finally {
      probe.disconnect();
      await gw.stop();
    }
  });
});
