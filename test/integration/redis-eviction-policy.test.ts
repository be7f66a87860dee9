// Start-up refuses a Redis whose maxmemory-policy may evict keys, but the policy can change later: a
// Redis restarted with another configuration (a container recreated with the image's defaults, a
// replica promoted with its own redis.conf, a parameter group changed) or a CONFIG SET at runtime.
// Intake then refuses mail at MAIL FROM (451 4.3.0) and says why in the log, until the policy is
// noeviction again: mail accepted meanwhile could be deleted by Redis under memory pressure.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { PrivateRedis, startPrivateRedis } from '../helpers/redis.js';
import { sendMail, simpleMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

const message = { from: 'app@example.com', to: ['user@example.net'], message: simpleMessage() };
const policyLogged = (gw: TestGateway, from: number, policy: string) =>
  gw.logs
    .slice(from)
    .some(
      (line) =>
        line.level === 'error' &&
        line.msg.startsWith('redis.eviction_policy') &&
        line.maxmemoryPolicy === policy,
    );

describe('maxmemory-policy that changes after start-up', () => {
  let first: PrivateRedis;
  let restarted: PrivateRedis | undefined;
  let gw: TestGateway;
  beforeAll(async () => {
    first = await startPrivateRedis(['--maxmemory', '256mb', '--maxmemory-policy', 'noeviction']);
    // The high-water mark off: the policy is watched all the same.
    gw = await startGateway(
      { REDIS_URL: first.url, SMTP_INTAKE_TIMEOUT: '1s', REDIS_MEMORY_HIGH_WATER: '0' },
      { cleanup: false },
    );
  });
  afterAll(async () => {
    await gw.stop();
    await restarted?.stop();
    await first.stop();
  });

  /** MAIL FROM refused with 451 4.3.0 (waits for the once-a-second reading). */
  async function refusedAtMailFrom(): Promise<void> {
    const refused = await waitFor(
      async () => {
        const result = await sendMail(gw.smtpPort, message);
        return result.mail.code === 451 ? result : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 200, what: 'MAIL FROM to be refused' },
    );
    expect(refused.mail.text).toBe(
      '4.3.0 Temporary failure: the queue cannot keep mail safely now, try again later',
    );
  }

  async function acceptedAgain(server: PrivateRedis): Promise<void> {
    const admin = new Redis(server.url);
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    admin.disconnect();
    await waitFor(async () => (await sendMail(gw.smtpPort, message)).data?.code === 250, {
      timeoutMs: 5000,
      intervalMs: 200,
      what: 'mail to be taken again',
    });
    expect(gw.logs.some((line) => String(line.msg).startsWith('redis.eviction_policy_restored'))).toBe(true);
  }

  it('refuses mail once Redis comes back from a restart with an evicting policy, until it is noeviction', async () => {
    expect((await sendMail(gw.smtpPort, message)).data?.code).toBe(250);
    const logged = gw.logs.length;
    await first.kill();
    restarted = await new PrivateRedis(first.port, [
      '--maxmemory',
      '256mb',
      '--maxmemory-policy',
      'allkeys-lru',
    ]).start();

    await refusedAtMailFrom();
    expect(policyLogged(gw, logged, 'allkeys-lru')).toBe(true);
    await acceptedAgain(restarted);
  });

  it('refuses mail once the policy is changed to an evicting one at runtime, until it is noeviction', async () => {
    const server = restarted ?? first;
    const admin = new Redis(server.url);
    const logged = gw.logs.length;
    await admin.config('SET', 'maxmemory-policy', 'volatile-lru');
    admin.disconnect();

    await refusedAtMailFrom();
    expect(policyLogged(gw, logged, 'volatile-lru')).toBe(true);
    const metrics = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/^ses_relay_messages_refused_total\{reason="queue"\} [1-9]/m);
    await acceptedAgain(server);
  });
});
