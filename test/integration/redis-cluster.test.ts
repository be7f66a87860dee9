import { Writable } from 'node:stream';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import type { CheckResult } from '../../src/doctor/index.js';
import { retryPolicyOf } from '../../src/queue/retry.js';
import { createSendWorker } from '../../src/queue/worker.js';
import { keySlot } from '../../src/shared/hash-tag.js';
import { createKeys } from '../../src/shared/keys.js';
import { createLogger } from '../../src/shared/logger.js';
import { closeRedis, createRedisFactory } from '../../src/shared/redis.js';
import { createSuppressionStore } from '../../src/suppression/index.js';
import { runCli } from '../helpers/cli-run.js';
import { startFakeSes, type FakeSes } from '../helpers/fake-ses.js';
import { startGateway, type LogLine } from '../helpers/gateway.js';
import { startLocalCluster, type LocalCluster } from '../helpers/redis-cluster.js';
import { queueMessage, sendMail, simpleMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

const message = { from: 'app@example.com', to: ['user@example.net'], message: simpleMessage() };
/** Spares each gateway start computing how many 200 ms retries fill QUEUE_MAX_AGE. */
const FEW_ATTEMPTS = { SEND_MAX_ATTEMPTS: '3' };
const address = (port: number) => `127.0.0.1:${port}`;

function captureLogs(): { logs: LogLine[]; sink: Writable } {
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { logs, sink };
}

describe('Redis Cluster (three masters, the first with a replica, started by the test)', () => {
  let cluster: LocalCluster;
  let ses: FakeSes;
  let client: Cluster;
  beforeAll(async () => {
    cluster = await startLocalCluster({ replicaOfFirst: true });
    ses = await startFakeSes();
    client = new Cluster(cluster.nodes.map((node) => ({ host: '127.0.0.1', port: node.port })));
  }, 60_000);
  afterAll(async () => {
    client.disconnect();
    await ses.stop();
    await cluster.stop();
  });

  /** The port of the master that serves `slot`, as the cluster itself reports it. */
  async function ownerOfSlot(slot: number): Promise<number> {
    const range = (await client.cluster('SLOTS')).find(([start, end]) => slot >= start && slot <= end);
    const port = range?.[2]?.[1];
    if (port === undefined) throw new Error(`no master serves slot ${slot}`);
    return port;
  }

  /** A REDIS_PREFIX whose deployment slot (by the prefix's hash tag) lives on the master at `port`. */
  async function prefixOn(port: number, label: string): Promise<string> {
    for (let i = 0; i < 1000; i++) {
      const prefix = `${label}-${i}`;
      const slot = Number(await client.cluster('KEYSLOT', `{${prefix}}`));
      if ((await ownerOfSlot(slot)) === port) return prefix;
    }
    throw new Error(`no prefix found for ${port}`);
  }

  it('gives a prefix without a hash tag one, so a deployment lives in one slot', () => {
    expect(parseConfig({ REDIS_URL: cluster.url, REDIS_PREFIX: 'mail' }).REDIS_PREFIX).toBe('{mail}');
    expect(parseConfig({ REDIS_URL: cluster.url, REDIS_PREFIX: '{mail}-eu' }).REDIS_PREFIX).toBe('{mail}-eu');
    // Redis finds no tag in "{}{x}" (the first {…} is empty) and would hash each key whole.
    expect(() => parseConfig({ REDIS_URL: cluster.url, REDIS_PREFIX: '{}{x}' })).toThrow(
      /REDIS_PREFIX: braces must form a hash tag/,
    );
  });

  it('computes the slot of a key as the cluster does', async () => {
    for (const key of ['relay', '{relay}:raw:1', '{}{x}:raw:1', 'a{b', 'mail-{eu}:q', '{ü}x', 'x{}y{z}']) {
      expect(keySlot(key), key).toBe(Number(await client.cluster('KEYSLOT', key)));
    }
  });

  it('relays end to end: suppression at RCPT, queue, chunked SES delivery, tracing, metrics', async () => {
    ses.reset();
    const gw = await startGateway(
      { REDIS_URL: cluster.url, REDIS_PREFIX: 'cluster-test' },
      { ses, cleanup: false },
    );
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
      await gw.stop();
    }
  });

  it('with REDIS_WAIT_REPLICAS waits on the master holding the deployment: 250 with its replica, 451 without', async () => {
    const [first, second] = cluster.nodes;
    const replicated = await prefixOn(first!.port, 'wait-replicated');
    const alone = await prefixOn(second!.port, 'wait-alone');
    const env = {
      ...FEW_ATTEMPTS,
      REDIS_URL: cluster.url,
      REDIS_WAIT_REPLICAS: '1',
      REDIS_WAIT_TIMEOUT: '200ms',
      ROLES: 'smtp',
    };
    const replica = new Redis(cluster.replica!.port, '127.0.0.1');
    await replica.call('READONLY');
    // Several messages each: a WAIT sent to a random master would fail some and pass others.
    const withReplica = await startGateway({ ...env, REDIS_PREFIX: replicated }, { ses, cleanup: false });
    try {
      for (let i = 0; i < 6; i++) {
        const queueId = await queueMessage(withReplica.smtpPort);
        // Acknowledged by the replica before the 250: it holds the bytes already.
        expect(await replica.exists(createKeys(withReplica.config.REDIS_PREFIX).raw(queueId))).toBe(1);
      }
    } finally {
      replica.disconnect();
      await withReplica.stop();
    }
    const withoutReplica = await startGateway({ ...env, REDIS_PREFIX: alone }, { ses, cleanup: false });
    try {
      for (let i = 0; i < 6; i++) {
        // From the first client on: the listener waits for its Cluster connection to know the slots.
        const refused = await sendMail(withoutReplica.smtpPort, message);
        expect(refused.rcpt[0]?.code).toBe(250);
        expect(refused.data?.code).toBe(451);
        expect(refused.data?.text).toMatch(/^4\.3\.0 /);
      }
    } finally {
      await withoutReplica.stop();
    }
  });

  it('checks every master at start: refuses one that may evict, warns about each without AOF or a replica', async () => {
    const [first, second, third] = cluster.nodes;
    const evicting = new Redis(third!.port, '127.0.0.1');
    await evicting.config('SET', 'maxmemory-policy', 'allkeys-lru');
    const refused = createApp(
      parseConfig({
        ...FEW_ATTEMPTS,
        REDIS_URL: cluster.url,
        ROLES: 'http',
        HTTP_PORT: '0',
        LOG_LEVEL: 'silent',
      }),
      { logger: createLogger('silent') },
    );
    try {
      await expect(refused.start()).rejects.toThrow(
        `maxmemory-policy is "allkeys-lru" on ${address(third!.port)}`,
      );
    } finally {
      await refused.stop();
      await evicting.config('SET', 'maxmemory-policy', 'noeviction');
      evicting.disconnect();
    }
    const gw = await startGateway(
      { ...FEW_ATTEMPTS, REDIS_URL: cluster.url, ROLES: 'http' },
      { ses, cleanup: false },
    );
    try {
      const warning = gw.logs.find((l) => String(l.msg).startsWith('redis.not_durable'));
      expect([...((warning?.nodes as string[] | undefined) ?? [])].sort()).toEqual(
        [address(second!.port), address(third!.port)].sort(),
      );
      expect(warning?.nodes).not.toContain(address(first!.port));
    } finally {
      await gw.stop();
    }
  });

  it('doctor reads every master and names the one to fix, with its redis-cli line', async () => {
    const [first, second] = cluster.nodes;
    const evicting = new Redis(second!.port, '127.0.0.1');
    await evicting.config('SET', 'maxmemory-policy', 'volatile-lru');
    try {
      const result = await runCli(['doctor', '--json'], {
        REDIS_URL: cluster.url,
        REDIS_PREFIX: 'doctor',
        SES_ENDPOINT: ses.url,
      });
      const report = JSON.parse(result.stdout) as { results: CheckResult[] };
      const of = (check: string) => report.results.filter((r) => r.check === check);
      expect(of('redis.server').map((r) => r.status)).toEqual(['ok', 'ok', 'ok']);
      for (const node of cluster.nodes) {
        expect(of('redis.server').some((r) => r.message.endsWith(`at ${address(node.port)}`))).toBe(true);
      }
      expect(of('redis.eviction').filter((r) => r.status === 'fail')).toEqual([
        expect.objectContaining({
          message: expect.stringMatching(
            new RegExp(`^${address(second!.port)}: maxmemory-policy is volatile-lru`),
          ),
          fix: expect.stringContaining(
            `redis-cli -h 127.0.0.1 -p ${second!.port} CONFIG SET maxmemory-policy noeviction`,
          ),
        }),
      ]);
      const persistence = of('redis.persistence');
      expect(persistence.find((r) => r.message.startsWith(address(first!.port)))?.status).toBe('ok');
      expect(persistence.filter((r) => r.status === 'warn')).toHaveLength(2);
      expect(result.code).toBe(1);
    } finally {
      await evicting.config('SET', 'maxmemory-policy', 'noeviction');
      evicting.disconnect();
    }
  });

  it('logs a worker error that repeats thousands of times a second once, not once per repeat', async () => {
    const { logs, sink } = captureLogs();
    const logger = createLogger('info', sink);
    // A prefix in which Redis finds no hash tag (the configuration refuses it): every BullMQ script
    // spans several slots and fails with CROSSSLOT as fast as the worker retries it.
    const keys = createKeys('{}{flood}');
    const connection = createRedisFactory({
      url: cluster.url,
      intakeTimeoutMs: 1000,
      commandTimeoutMs: 1000,
      logger,
    })('worker', 'w');
    const crossSlotErrors = async () => {
      let count = 0;
      for (const node of client.nodes('master')) {
        count += Number(/errorstat_CROSSSLOT:count=(\d+)/.exec(await node.info('errorstats'))?.[1] ?? 0);
      }
      return count;
    };
    const before = await crossSlotErrors();
    const worker = createSendWorker({
      connection,
      redis: connection,
      keys,
      logger,
      concurrency: 1,
      retry: retryPolicyOf(parseConfig({})),
      deliver: (() => Promise.resolve({})) as never,
      dsn: undefined,
      failedRetentionMs: 60_000,
    });
    try {
      await worker.start();
      await waitFor(async () => (await crossSlotErrors()) - before >= 200, {
        timeoutMs: 15_000,
        what: 'the worker to fail 200 times',
      });
      expect(logs.filter((l) => l.msg === 'worker.error')).toHaveLength(1);
    } finally {
      await Promise.race([worker.stop(), new Promise((resolve) => setTimeout(resolve, 2000))]);
      await closeRedis(connection);
    }
  });
});
