// A connection that goes silent (a partition, or a peer that vanished without a reset: the old node
// of a failover, a dropped NAT/conntrack entry) while new connections reach Redis fine. Without a
// bound on silence, commands would go into the dead socket until the kernel gives up on it (about 15
// minutes with Linux's tcp_retries2, never behind a proxy that keeps the socket open): intake would
// answer 451 and the worker's jobs wait all that time. Each connection is dropped and made again
// once it has carried nothing for its bound while commands (or the heartbeat's PING) wait.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis.js';
import { startRedisFront, type RedisFront } from '../helpers/redis-front.js';
import { sendMail, simpleMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

const message = { from: 'app@example.com', to: ['user@example.net'], message: simpleMessage() };

describe('Redis connections that go silent', () => {
  let redis: PrivateRedis;
  let front: RedisFront;
  let gw: TestGateway;
  let intakeAfter: TestGateway | undefined;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    front = await startRedisFront(redis.port);
    gw = await startGateway(
      { REDIS_URL: `redis://127.0.0.1:${front.port}`, SMTP_INTAKE_TIMEOUT: '1s' },
      { cleanup: false },
    );
  });
  afterAll(async () => {
    // Shutting down needs Redis: the silent connections are reset first, as the kernel would in the end.
    front.resetSilent();
    await intakeAfter?.stop();
    await gw.stop();
    await front.close();
    await redis.stop();
  });

  it('intake reconnects after its commands time out on a dead connection', async () => {
    expect((await sendMail(gw.smtpPort, message)).data?.code).toBe(250);
    await waitFor(() => gw.ses.sends.length === 1, { what: 'the first delivery' });

    front.silenceCurrent();
    const codes: (number | undefined)[] = [];
    const recovered = await waitFor(
      async () => {
        const result = await sendMail(gw.smtpPort, message);
        codes.push(result.data?.code ?? result.rcpt[0]?.code);
        return result.data?.code === 250;
      },
      { timeoutMs: 20_000, intervalMs: 500, what: 'intake to take mail again' },
    ).catch(() => false);
    expect(
      recovered,
      `replies for 20 s while Redis was reachable on a new connection: ${codes.join(',')}`,
    ).toBe(true);
  });

  it('the worker delivers mail that a healthy intake queued meanwhile', async () => {
    intakeAfter = await startGateway(
      { REDIS_URL: `redis://127.0.0.1:${front.port}`, ROLES: 'smtp' },
      { prefix: gw.config.REDIS_PREFIX, ses: gw.ses, cleanup: false },
    );
    expect((await sendMail(intakeAfter.smtpPort, message)).data?.code).toBe(250);
    const before = gw.ses.sends.length;
    // Each of the worker's connections is found silent within the heartbeat and its bound (5 + 15 s).
    const delivered = await waitFor(() => gw.ses.sends.length > before, {
      timeoutMs: 40_000,
      intervalMs: 100,
      what: 'the worker to deliver it',
    }).catch(() => false);
    expect(delivered, 'the worker still waits on its silent connections').toBe(true);
  }, 60_000);
});
