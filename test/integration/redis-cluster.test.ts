import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { createSuppressionStore } from '../../src/suppression/index.js';
import { startFakeSes, type FakeSes } from '../helpers/fake-ses.js';
import { startGateway } from '../helpers/gateway.js';
import { startLocalCluster, type LocalCluster } from '../helpers/redis-cluster.js';
import { sendMail, simpleMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

describe('Redis Cluster (three masters, started by the test)', () => {
  let cluster: LocalCluster;
  let ses: FakeSes;
  beforeAll(async () => {
    cluster = await startLocalCluster();
    ses = await startFakeSes();
  }, 60_000);
  afterAll(async () => {
    await ses.stop();
    await cluster.stop();
  });

  it('gives a prefix without a hash tag one, so a deployment lives in one slot', () => {
    expect(parseConfig({ REDIS_URL: cluster.url, REDIS_PREFIX: 'mail' }).REDIS_PREFIX).toBe('{mail}');
    expect(parseConfig({ REDIS_URL: cluster.url, REDIS_PREFIX: '{mail}-eu' }).REDIS_PREFIX).toBe('{mail}-eu');
  });

  it('relays end to end: suppression at RCPT, queue, chunked SES delivery, tracing, metrics', async () => {
    const gw = await startGateway(
      { REDIS_URL: cluster.url, REDIS_PREFIX: 'cluster-test' },
      { ses, cleanup: false },
    );
    const client = new Cluster(cluster.nodes.map((node) => ({ host: '127.0.0.1', port: node.port })));
    try {
      expect(gw.config.REDIS_PREFIX).toBe('{cluster-test}');
      const store = createSuppressionStore({ redis: client as never, prefix: gw.config.REDIS_PREFIX });
      await store.suppress('gone@example.net', { reason: 'bounce' });
      const recipients = Array.from({ length: 120 }, (_, i) => `r${i}@example.net`);
      const result = await sendMail(gw.smtpPort, {
        from: 'app@example.com',
        to: [...recipients, 'gone@example.net'],
        message: simpleMessage(),
      });
      expect(result.rcpt.at(-1)?.code).toBe(550);
      expect(result.data?.code).toBe(250);
      await waitFor(() => ses.sends.length === 3, { timeoutMs: 15_000 });
      expect(ses.sends.flatMap((s) => s.to).sort()).toEqual([...recipients].sort());
      const metrics = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
      expect(metrics).toContain('ses_relay_messages_accepted_total 1');
      // Every key of the deployment hashes to one slot.
      const slots = new Set<number>();
      for (const node of client.nodes('master')) {
        for (const key of await node.keys('{cluster-test}*'))
          slots.add(Number(await client.cluster('KEYSLOT', key)));
      }
      expect(slots.size).toBe(1);
    } finally {
      client.disconnect();
      await gw.stop();
    }
  });
});
