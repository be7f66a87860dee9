import { Queue } from 'bullmq';
import { simpleParser } from 'mailparser';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { QUOTA_RECHECK_MS } from '../../src/queue/chunk-reservation.js';
import { createKeys, OUTBOUND_QUEUE } from '../../src/shared/keys.js';
import { startFakeSes, type FakeSes } from '../helpers/fake-ses.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { queueMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

const THROTTLED = {
  status: 429,
  type: 'TooManyRequestsException',
  message: 'Maximum sending rate exceeded.',
};
const DAILY_QUOTA = { status: 400, type: 'LimitExceededException', message: 'Daily message quota exceeded.' };
const PAUSED = {
  status: 400,
  type: 'SendingPausedException',
  message: 'Sending is paused for this account.',
};
const REJECTED = { status: 400, type: 'MessageRejected', message: 'Email address is not verified.' };

const queueOne = (gw: TestGateway, from?: string, to?: string[]) => queueMessage(gw.smtpPort, { from, to });

describe('SES account state, quotas and failure paths', () => {
  let ses: FakeSes;
  let gw: TestGateway | undefined;
  let queue: Queue | undefined;
  const start = async (env: Record<string, string> = {}) => {
    gw = await startGateway(env, { ses });
    queue = new Queue(OUTBOUND_QUEUE, { connection: gw.redis, prefix: gw.config.REDIS_PREFIX });
    return { gw, queue };
  };
  beforeAll(async () => {
    ses = await startFakeSes();
  });
  afterEach(async () => {
    await queue?.close();
    await gw?.stop();
    ses.reset();
    ses.account = {
      SendQuota: { Max24HourSend: 50000, MaxSendRate: 14, SentLast24Hours: 0 },
      SendingEnabled: true,
      ProductionAccessEnabled: true,
      EnforcementStatus: 'HEALTHY',
    };
  });
  afterAll(async () => {
    await ses.stop();
  });

  it('paces at MaxSendRate × SES_RATE_FACTOR from GetAccount and reports a sandbox account', async () => {
    ses.account = {
      ...ses.account,
      ProductionAccessEnabled: false,
      SendQuota: { MaxSendRate: 20, Max24HourSend: 200 },
    };
    const { gw } = await start({ SES_MAX_SEND_RATE: '', SES_RATE_FACTOR: '0.5' });
    const started = gw.logs.find((l) => l.msg === 'worker.started');
    expect(started?.ratePerSecond).toBe(10);
    expect(gw.logs.some((l) => String(l.msg).startsWith('ses.sandbox'))).toBe(true);
  });

  it('retries a throttled chunk without using up an attempt, and every worker backs off', async () => {
    const { gw, queue } = await start();
    ses.failNext(THROTTLED, 3);
    const queueId = await queueOne(gw);
    await waitFor(async () => (await queue.getJobState(queueId)) === 'completed');
    expect(ses.calls).toBe(4);
    expect((await queue.getJob(queueId))?.attemptsMade).toBe(1);
    expect(gw.logs.filter((l) => l.msg === 'ses.throttled')).toHaveLength(3);
  });

  it('delays (not fails) a message when SES answers "Daily message quota exceeded"', async () => {
    const { gw, queue } = await start();
    ses.failNext(DAILY_QUOTA, 1);
    const queueId = await queueOne(gw);
    await waitFor(async () => (await queue.getJobState(queueId)) === 'delayed');
    const job = await queue.getJob(queueId);
    expect(job?.attemptsMade).toBe(0);
    expect(job!.delay + job!.timestamp).toBeGreaterThan(Date.now() + 5 * 60_000);
  });

  it('after a "Daily message quota exceeded", holds the other messages without calling SES', async () => {
    const { gw, queue } = await start();
    ses.failNext(DAILY_QUOTA, 100);
    const first = await queueOne(gw);
    await waitFor(async () => (await queue.getJobState(first)) === 'delayed');
    expect(ses.calls).toBe(1);
    const others = [await queueOne(gw), await queueOne(gw), await queueOne(gw)];
    for (const queueId of others) {
      await waitFor(async () => (await queue.getJobState(queueId)) === 'delayed');
      const job = await queue.getJob(queueId);
      expect(job?.attemptsMade).toBe(0);
      // Until the refusal's 10 minutes are over, give or take the time the test took.
      expect(job!.delay + job!.timestamp).toBeGreaterThan(Date.now() + 5 * 60_000);
    }
    expect(ses.calls).toBe(1);
    const held = gw.logs.filter((l) => l.msg === 'queue.delayed' && l.why === 'SES daily quota exceeded');
    expect(held.length).toBe(4);
  });

  it('holds messages past Max24HourSend until the 24-hour window has room', async () => {
    ses.account = { ...ses.account, SendQuota: { MaxSendRate: 14, Max24HourSend: 3 } };
    const { gw, queue } = await start();
    const first = await queueOne(gw, 'app@example.com', ['a@example.net', 'b@example.net']);
    await waitFor(async () => (await queue.getJobState(first)) === 'completed');
    const second = await queueOne(gw, 'app@example.com', ['c@example.net', 'd@example.net']);
    await waitFor(async () => (await queue.getJobState(second)) === 'delayed');
    expect(ses.sends).toHaveLength(1);
    expect((await queue.getJob(second))?.attemptsMade).toBe(0);
  });

  it("holds mail that fits this deployment's ledger but not SES's SentLast24Hours (other senders on the account)", async () => {
    ses.account = { ...ses.account, SendQuota: { MaxSendRate: 14, Max24HourSend: 100, SentLast24Hours: 99 } };
    const { gw, queue } = await start();
    const queueId = await queueOne(gw, 'app@example.com', ['a@example.net', 'b@example.net']);
    await waitFor(async () => (await queue.getJobState(queueId)) === 'delayed');
    expect(ses.sends).toHaveLength(0);
    const job = await queue.getJob(queueId);
    expect(job?.attemptsMade).toBe(0);
    // SES's count can fall at any time; the job looks again within QUOTA_RECHECK_MS.
    expect(job!.delay).toBeLessThanOrEqual(QUOTA_RECHECK_MS);
    expect(gw.logs.find((l) => l.msg === 'queue.delayed' && l.queueId === queueId)).toMatchObject({
      why: '24-hour quota reached',
      max24HourSend: 100,
      sesSentLast24Hours: 99,
      ownSentLast24Hours: 0,
    });
  });

  it('looks again within QUOTA_RECHECK_MS at mail held for the 24-hour quota, so a quota AWS raises carries it', async () => {
    ses.account = { ...ses.account, SendQuota: { MaxSendRate: 14, Max24HourSend: 3 } };
    const { gw, queue } = await start({ SES_ACCOUNT_REFRESH: '200ms' });
    const first = await queueOne(gw, 'app@example.com', ['a@example.net', 'b@example.net']);
    await waitFor(async () => (await queue.getJobState(first)) === 'completed');
    const second = await queueOne(gw, 'app@example.com', ['c@example.net', 'd@example.net']);
    await waitFor(async () => (await queue.getJobState(second)) === 'delayed');
    const held = await queue.getJob(second);
    // The window frees only in about 24 hours; the job is due again well before that.
    expect(held!.delay).toBeLessThanOrEqual(QUOTA_RECHECK_MS);
    const delayed = gw.logs.find((l) => l.msg === 'queue.delayed' && l.queueId === second);
    expect(delayed).toMatchObject({ why: '24-hour quota reached', max24HourSend: 3 });
    expect(Date.parse(String(delayed!.quotaFreesAt))).toBeGreaterThan(Date.now() + 23 * 3_600_000);

    ses.account = { ...ses.account, SendQuota: { MaxSendRate: 14, Max24HourSend: 50_000 } };
    await waitFor(() =>
      gw.logs.find(
        (l) => l.msg === 'ses.account' && l.max24HourSend === 50_000 && l.previousMax24HourSend === 3,
      ),
    );
    // Standing in for the re-check falling due: the raised quota admits the held message.
    await held!.promote();
    await waitFor(async () => (await queue.getJobState(second)) === 'completed');
    expect(ses.sends.map((s) => s.to)).toEqual([
      ['a@example.net', 'b@example.net'],
      ['c@example.net', 'd@example.net'],
    ]);
  });

  it('pauses the queue when SES pauses sending, keeps accepting mail, and resumes when SES sends again', async () => {
    const { gw, queue } = await start({ SES_PAUSE_PROBE_INTERVAL: '300ms' });
    ses.account = { ...ses.account, SendingEnabled: false };
    ses.onSend(() => PAUSED);
    const first = await queueOne(gw);
    await waitFor(async () => await queue.isPaused());
    // The pod stays ready (intake, SNS feedback and the resume API must stay reachable); the hold
    // and its reason show in the metrics and the admin API.
    expect((await fetch(`http://127.0.0.1:${gw.httpPort}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
    expect(metrics).toContain('ses_relay_sending_held{by="ses"} 1');
    expect(await gw.redis.hget(createKeys(gw.config.REDIS_PREFIX).sendingHold, 'reason')).toContain(
      'SendingPausedException',
    );
    expect(gw.logs.some((l) => l.msg === 'ses.sending_paused')).toBe(true);
    // Intake is unaffected while sending is on hold.
    const second = await queueOne(gw);

    ses.onSend(undefined);
    ses.account = { ...ses.account, SendingEnabled: true };
    await waitFor(async () => (await queue.getJobState(first)) === 'completed', { timeoutMs: 10_000 });
    await waitFor(async () => (await queue.getJobState(second)) === 'completed', { timeoutMs: 10_000 });
    expect(await queue.isPaused()).toBe(false);
    expect((await fetch(`http://127.0.0.1:${gw.httpPort}/readyz`)).status).toBe(200);
  });

  it('holds the mail, rather than failing it, when SES refuses it as MessageRejected "Sending paused"', async () => {
    const { gw, queue } = await start({ DSN_FROM: 'mailer-daemon@example.com' });
    ses.onSend(() => ({
      status: 400,
      type: 'MessageRejected',
      message:
        'Sending paused for this account. For more information, please check the inbox of the email address associated with your AWS account.',
    }));
    const queueId = await queueOne(gw);
    await waitFor(async () => await queue.isPaused(), { what: 'the SES hold' });
    expect(await queue.getJobState(queueId)).not.toBe('failed');
    expect(gw.logs.filter((l) => l.msg === 'dsn.queued')).toEqual([]);
    expect(await gw.redis.hget(createKeys(gw.config.REDIS_PREFIX).sendingHold, 'by')).toBe('ses');
  });

  it('holds the queue while AWS has shut the account down, although its own sending switch is on', async () => {
    const { gw, queue } = await start({ SES_PAUSE_PROBE_INTERVAL: '100ms' });
    // EnforcementStatus SHUTDOWN: "your account's ability to send email is currently paused".
    ses.account = { ...ses.account, SendingEnabled: true, EnforcementStatus: 'SHUTDOWN' };
    ses.onSend(() => PAUSED);
    const queueId = await queueOne(gw);
    await waitFor(async () => await queue.isPaused(), { what: 'the SES hold' });
    const reads = ses.accountReads;
    await waitFor(() => ses.accountReads >= reads + 5, { what: 'five probes' });
    // Every probe reads the account shut down: the hold stays, no send is tried again and again.
    expect(gw.logs.filter((l) => l.msg === 'ses.sending_resumed')).toEqual([]);
    expect(ses.calls).toBeLessThanOrEqual(1);
    expect(await queue.isPaused()).toBe(true);

    ses.onSend(undefined);
    ses.account = { ...ses.account, EnforcementStatus: 'HEALTHY' };
    await waitFor(async () => (await queue.getJobState(queueId)) === 'completed', { timeoutMs: 10_000 });
    expect(ses.sends).toHaveLength(1);
  });

  it('keeps an SES hold while GetAccount fails, and lifts it only once GetAccount says sending is enabled', async () => {
    const { gw, queue } = await start({ SES_PAUSE_PROBE_INTERVAL: '100ms' });
    // The account was read at start (sending enabled). Now SES pauses the account and GetAccount
    // fails (an outage, or no ses:GetAccount permission): that earlier read must not lift the hold.
    ses.accountError = { status: 503, type: 'ServiceUnavailable', message: 'unavailable' };
    ses.onSend(() => PAUSED);
    const queueId = await queueOne(gw);
    await waitFor(async () => await queue.isPaused(), { what: 'the SES hold' });
    const reads = ses.accountReads;
    await waitFor(() => ses.accountReads >= reads + 10, { what: 'ten failed probes' });
    expect(gw.logs.filter((l) => l.msg === 'ses.sending_resumed')).toEqual([]);
    expect(gw.logs.filter((l) => l.msg === 'ses.sending_paused')).toHaveLength(1);
    expect(ses.calls).toBe(1);
    expect(await queue.isPaused()).toBe(true);
    // Said once per outage, not at every probe.
    expect(gw.logs.filter((l) => l.msg.startsWith('ses.probe_unreadable'))).toHaveLength(1);

    // GetAccount answers again, sending enabled: the next probe lifts the hold and the message goes.
    ses.onSend(undefined);
    ses.accountError = undefined;
    await waitFor(async () => (await queue.getJobState(queueId)) === 'completed', { timeoutMs: 10_000 });
    expect(gw.logs.filter((l) => l.msg === 'ses.sending_resumed')).toHaveLength(1);
    expect(ses.sends).toHaveLength(1);
  });

  it('fails a message that outlives QUEUE_MAX_AGE like an MTA queue lifetime', async () => {
    const { gw, queue } = await start({ QUEUE_MAX_AGE: '1s' });
    ses.onSend(() => ({ status: 503, type: 'ServiceUnavailable', message: 'down' }));
    const queueId = await queueOne(gw);
    await waitFor(async () => (await queue.getJobState(queueId)) === 'failed', { timeoutMs: 10_000 });
    expect((await queue.getJob(queueId))?.failedReason).toMatch(/^QUEUE_LIFETIME_EXCEEDED/);
  });

  it('sends a DSN with the original headers to the sender of a message SES rejected for good', async () => {
    const { gw } = await start({ DSN_FROM: 'mailer-daemon@example.com' });
    ses.failNext(REJECTED, 1);
    await queueOne(gw, 'app@example.com', ['user@example.net']);
    const dsn = await waitFor(() => ses.sends.find((s) => s.to[0] === 'app@example.com'));
    expect(dsn.from).toBe('mailer-daemon@example.com');
    const parsed = await simpleParser(dsn.raw);
    expect(parsed.headers.get('content-type')).toMatchObject({
      value: 'multipart/report',
      params: { 'report-type': 'delivery-status' },
    });
    const raw = dsn.raw.toString();
    expect(raw).toContain('Final-Recipient: rfc822; user@example.net');
    expect(raw).toContain('Action: failed');
    expect(raw).toContain('MessageRejected');
    expect(raw).toContain('Content-Type: text/rfc822-headers');
    expect(raw).toContain('Subject: to user@example.net');
  });

  it('sends no DSN for the null sender and never a DSN about a DSN', async () => {
    const { gw, queue } = await start({ DSN_FROM: 'mailer-daemon@example.com' });
    ses.onSend(() => REJECTED);
    const nullSender = await queueOne(gw, '', ['user@example.net']);
    await waitFor(async () => (await queue.getJobState(nullSender)) === 'failed');
    await waitFor(() => gw.logs.find((l) => l.msg === 'dsn.skipped' && l.queueId === nullSender));

    // The DSN for this one is rejected too: exactly one DSN attempt, no DSN for it.
    const loop = await queueOne(gw, 'app@example.com', ['user@example.net']);
    await waitFor(() =>
      gw.logs.find((l) => l.msg === 'dsn.skipped' && l.skip === 'the failed message is itself a DSN'),
    );
    expect(ses.calls).toBe(3);
    expect(gw.logs.filter((l) => l.msg === 'dsn.queued' && l.queueId === loop)).toHaveLength(1);
  });
});
