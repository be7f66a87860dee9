import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUTBOUND_QUEUE } from '../../src/shared/keys.js';
import { runCli } from '../helpers/cli-run.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { sendMail, simpleMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

describe('ses-relay queue (a real process against a running gateway)', () => {
  let gw: TestGateway;
  let queue: Queue;
  let env: Record<string, string>;

  beforeAll(async () => {
    gw = await startGateway();
    queue = new Queue(OUTBOUND_QUEUE, { connection: gw.redis, prefix: gw.config.REDIS_PREFIX });
    env = { REDIS_PREFIX: gw.config.REDIS_PREFIX, SES_ENDPOINT: gw.ses.url };
  });
  afterAll(async () => {
    await queue.close();
    await gw.stop();
  });

  const send = async (to: string) => {
    const result = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: [to],
      message: simpleMessage({ to }),
    });
    expect(result.data?.code).toBe(250);
  };

  it('pauses sending, shows the waiting message and the hold, and resumes', async () => {
    const paused = await runCli(['queue', 'pause', '--reason', 'maintenance window'], env);
    expect(paused).toMatchObject({ code: 0, stdout: 'sending paused: maintenance window\n' });
    await send('held@example.net');
    await waitFor(async () => (await queue.getWaitingCount()) === 1, { what: 'the message to wait' });

    const [json, text, again] = await Promise.all([
      runCli(['queue', 'stats', '--json'], env),
      runCli(['queue', 'stats'], env),
      runCli(['queue', 'pause'], env),
    ]);
    const stats = JSON.parse(json.stdout);
    expect(stats.queue).toMatchObject({ paused: true, counts: { waiting: 1, failed: 0 } });
    expect(stats.queue.oldestWaitingAgeMs).toBeGreaterThanOrEqual(0);
    expect(stats.hold).toMatchObject({ by: 'operator', reason: 'maintenance window' });
    // The worker published the fake account at start.
    expect(stats.quota.account).toMatchObject({ maxSendRate: 14, productionAccess: true });
    expect(text.stdout).toMatch(/waiting\s+1 {2}\(oldest \d/);
    expect(text.stdout).toContain('sending: HELD by operator since');
    expect(text.stdout).toContain('SES account (read');
    // The ledger counts chunks from their reservation, and SES's own count is shown beside it.
    expect(text.stdout).toContain(
      '24-hour quota: 0/50000 recipients sent or reserved by this deployment; SES counted 0 for the whole account',
    );
    // The guard's own window (REPUTATION_WINDOW), beside the 30 days of SES's view.
    expect(text.stdout).toMatch(/\nreputation guard over 7 days \(checked .+ ago\): 0 sent, bounce rate -/);
    expect(stats.reputation).toMatchObject({ windowDays: 7, sent: 0, bounceRate: null, acknowledged: null });
    expect(again.stdout).toContain('sending was already paused by an operator since');
    expect(gw.ses.sends).toHaveLength(0);

    const resumed = await runCli(['queue', 'resume'], env);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('sending resumed (was held by operator since');
    await waitFor(() => gw.ses.sends.length === 1, { what: 'the held message to go out' });
  });

  it('retries failed messages, all or up to --limit', async () => {
    gw.ses.reset();
    gw.ses.onSend(() => ({
      status: 400,
      type: 'MessageRejected',
      message: 'Email address is not verified.',
    }));
    await send('first@example.net');
    await send('second@example.net');
    await waitFor(async () => (await queue.getFailedCount()) === 2, { what: 'both messages to fail' });
    gw.ses.onSend(undefined);

    const one = await runCli(['queue', 'retry-failed', '--limit', '1'], env);
    expect(one).toMatchObject({ code: 0, stdout: 'retried 1 failed message\n' });
    await waitFor(() => gw.ses.sends.length === 1, { what: 'the retried message to go out' });
    expect(await queue.getFailedCount()).toBe(1);

    const rest = await runCli(['queue', 'retry-failed', '--json'], env);
    expect(JSON.parse(rest.stdout)).toEqual({ retried: 1, skipped: 0 });
    await waitFor(() => gw.ses.sends.length === 2, { what: 'the second message to go out' });
    expect(gw.ses.sends.map((s) => s.to[0]).sort()).toEqual(['first@example.net', 'second@example.net']);
  });
});
