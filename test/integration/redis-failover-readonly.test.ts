// A failover that demotes the primary without closing its clients' connections: a managed service's
// primary endpoint (ElastiCache) moves its DNS name to the promoted replica while the old primary
// stays up as a replica, or a manual REPLICAOF. Connections made before it stay on the old primary,
// whose every write is answered READONLY (and BullMQ's blocking read UNBLOCKED): each connection is
// made again on such an answer, reaching the new primary through the same endpoint, so intake takes
// mail again and the worker delivers what is queued there.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis.js';
import { startRedisFront, type RedisFront } from '../helpers/redis-front.js';
import { sendMail, simpleMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

const message = { from: 'app@example.com', to: ['user@example.net'], message: simpleMessage() };

describe('failover that leaves the old primary up as a replica', () => {
  let primary: PrivateRedis;
  let replica: PrivateRedis;
  let front: RedisFront;
  let gw: TestGateway;
  let intakeAfter: TestGateway | undefined;
  beforeAll(async () => {
    primary = await startPrivateRedis();
    replica = await startPrivateRedis(['--replicaof', '127.0.0.1', String(primary.port)]);
    const probe = new Redis(replica.url);
    await waitFor(async () => (await probe.info('replication')).includes('master_link_status:up'), {
      what: 'the replica to sync',
    });
    probe.disconnect();
    front = await startRedisFront(primary.port);
    gw = await startGateway(
      { REDIS_URL: `redis://127.0.0.1:${front.port}`, SMTP_INTAKE_TIMEOUT: '1s' },
      { cleanup: false },
    );
  });
  afterAll(async () => {
    await intakeAfter?.stop();
    await gw.stop();
    await front.close();
    await replica.stop();
    await primary.stop();
  });

  it('takes mail again on the promoted replica once the endpoint points there', async () => {
    expect((await sendMail(gw.smtpPort, message)).data?.code).toBe(250);
    await waitFor(() => gw.ses.sends.length === 1, { what: 'the first delivery' });

    // Failover: the replica is promoted, the old primary follows it, the endpoint moves.
    const promoted = new Redis(replica.url);
    const demoted = new Redis(primary.url);
    await promoted.replicaof('NO', 'ONE');
    await demoted.replicaof('127.0.0.1', String(replica.port));
    await waitFor(async () => (await demoted.info('replication')).includes('master_link_status:up'), {
      what: 'the old primary to follow the new one',
    });
    front.target = replica.port;
    promoted.disconnect();
    demoted.disconnect();

    // A fresh client through the same endpoint writes fine: the new primary is reachable.
    const fresh = new Redis(`redis://127.0.0.1:${front.port}`);
    expect(await fresh.set('readonly-probe', '1', 'PX', 1000)).toBe('OK');
    fresh.disconnect();

    const codes: (number | undefined)[] = [];
    const recovered = await waitFor(
      async () => {
        const result = await sendMail(gw.smtpPort, message);
        codes.push(result.data?.code ?? result.rcpt[0]?.code);
        return result.data?.code === 250;
      },
      { timeoutMs: 20_000, intervalMs: 500, what: 'intake to take mail on the new primary' },
    ).catch(() => false);
    const readonly = gw.logs.filter((l) => JSON.stringify(l).includes('READONLY')).length;
    expect(
      recovered,
      `replies for 20 s after the failover: ${codes.join(',')}; log lines naming READONLY: ${readonly}`,
    ).toBe(true);
  });

  it('delivers mail queued on the new primary (by an intake started after the failover)', async () => {
    // Runs after the failover above. A process started now connects to the new primary.
    intakeAfter = await startGateway(
      { REDIS_URL: `redis://127.0.0.1:${front.port}`, ROLES: 'smtp' },
      { prefix: gw.config.REDIS_PREFIX, ses: gw.ses, cleanup: false },
    );
    expect((await sendMail(intakeAfter.smtpPort, message)).data?.code).toBe(250);
    const before = gw.ses.sends.length;
    const delivered = await waitFor(() => gw.ses.sends.length > before, {
      timeoutMs: 15_000,
      what: 'the old worker to deliver it',
    }).catch(() => false);
    const workerErrors = gw.logs.filter((l) => l.msg === 'worker.error').map((l) => String(l.err));
    expect(delivered, `worker errors: ${[...new Set(workerErrors)].join(' | ')}`).toBe(true);
  });
});
