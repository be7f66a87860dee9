import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTraceStore, type TraceStore } from '../../src/trace/trace-store.js';
import { runCli, startCli } from '../helpers/cli-run.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { sendMail, simpleMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

describe('ses-relay message and send-test (a real process against a running gateway)', () => {
  let gw: TestGateway;
  let trace: TraceStore;
  let env: Record<string, string>;

  beforeAll(async () => {
    gw = await startGateway({ SMTP_ALLOWED_SENDERS: '@example.com,app@example.org' });
    trace = createTraceStore(gw.redis, gw.config.REDIS_PREFIX, gw.config.TRACE_RETENTION);
    env = {
      REDIS_PREFIX: gw.config.REDIS_PREFIX,
      SES_ENDPOINT: gw.ses.url,
      // A wildcard bind, as in production: send-test must connect to loopback.
      SMTP_HOST: '0.0.0.0',
      SMTP_PORT: String(gw.smtpPort),
      SMTP_ALLOWED_SENDERS: '@example.com,app@example.org',
      SMTP_NAME: 'relay.test',
    };
  });
  afterAll(async () => {
    await gw.stop();
  });

  /** Plays SNS: once the worker recorded the SES call, the event is traced as the webhook would. */
  async function answerAsSes(sendIndex: number, events: string[]): Promise<void> {
    const send = await waitFor(() => gw.ses.sends[sendIndex], { what: 'the SES call' });
    for (const event of events) {
      await waitFor(
        () =>
          trace.recordSesEvent(send.messageId, {
            type: 'ses-event',
            at: Date.now(),
            event,
            recipients: send.to,
          }),
        { what: 'the SES MessageId to be traced' },
      );
    }
  }

  it('prints the timeline of a relayed message by queue id, Message-ID or SES MessageId', async () => {
    const result = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: ['reader@example.net'],
      message: simpleMessage({ extra: ['Message-ID: <cli-message-1@app.example>'] }),
    });
    const queueId = /queued as (\w+)/.exec(result.data!.text)![1]!;
    await answerAsSes(0, ['Delivery']);

    const [byId, byMessageId, missing] = await Promise.all([
      runCli(['message', queueId], env),
      runCli(['message', 'cli-message-1@app.example', '--json'], env),
      runCli(['message', 'no-such-message'], env),
    ]);
    expect(byId.code).toBe(0);
    const lines = byId.stdout.trim().split('\n');
    expect(lines[0]).toBe(`message ${queueId}`);
    expect(lines[1]).toMatch(
      /accepted from 127\.0\.0\.1: <app@example\.com> to reader@example\.net, \d+ bytes/,
    );
    expect(lines[2]).toContain(
      `sent to SES (chunk 0, 1 recipient, SES MessageId ${gw.ses.sends[0]!.messageId})`,
    );
    expect(lines[3]).toContain('SES Delivery for reader@example.net');
    expect(lines[4]).toMatch(/^queue: completed \(attempt 1 of \d+\)$/);

    const view = JSON.parse(byMessageId.stdout);
    expect(view).toMatchObject({
      queueId,
      job: { state: 'completed' },
      summary: { events: { Delivery: 1 } },
    });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no trace of no-such-message');
  });

  it('send-test goes through SMTP to the simulator and ends 0 when the expected event arrives', async () => {
    gw.ses.reset();
    const delivery = startCli(['send-test', '--timeout', '20s'], env);
    const complaint = startCli(
      ['send-test', '--complaint', '--from', 'app@example.org', '--timeout', '20s'],
      env,
    );
    await waitFor(() => gw.ses.sends.length === 2, { what: 'both test messages at SES' });
    const index = (to: string) => gw.ses.sends.findIndex((send) => send.to[0] === to);
    await answerAsSes(index('success@simulator.amazonses.com'), ['Delivery']);
    // A complaint comes after a delivery: the delivery alone must not end that test.
    await answerAsSes(index('complaint@simulator.amazonses.com'), ['Delivery']);
    await waitFor(() => complaint.stdout().includes('SES Delivery'), { what: 'the delivery to be printed' });
    await answerAsSes(index('complaint@simulator.amazonses.com'), ['Complaint']);

    const [delivered, complained] = await Promise.all([delivery.done, complaint.done]);
    expect(delivered.code).toBe(0);
    expect(delivered.stdout).toMatch(
      /^queued as \w+: <ses-relay-test@example\.com> → <success@simulator\.amazonses\.com>/,
    );
    expect(delivered.stdout).toContain('accepted from 127.0.0.1');
    expect(delivered.stdout).toContain('sent to SES');
    expect(delivered.stdout).toMatch(/ok: SES reported Delivery for \w+\n$/);
    expect(complained.code).toBe(0);
    expect(complained.stdout).toContain('ok: SES reported Complaint');
    const sent = gw.ses.sends[index('complaint@simulator.amazonses.com')]!;
    expect(sent.from).toBe('app@example.org');
    expect(sent.raw.toString()).toContain('Subject: ses-relay send-test (Complaint)');
  });

  it('send-test ends 1 when no event comes back in time, also through a PROXY-protocol listener', async () => {
    // send-test connects from loopback: the balancers' list must hold it.
    const proxied = await startGateway({
      SMTP_PROXY_PROTOCOL: 'true',
      SMTP_PROXY_TRUSTED_NETWORKS: '127.0.0.1',
    });
    try {
      const result = await runCli(['send-test', '--bounce', '--timeout', '1s'], {
        ...env,
        REDIS_PREFIX: proxied.config.REDIS_PREFIX,
        SMTP_PORT: String(proxied.smtpPort),
        SMTP_ALLOWED_SENDERS: '',
        SMTP_PROXY_PROTOCOL: 'true',
        SMTP_PROXY_TRUSTED_NETWORKS: '127.0.0.1',
      });
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(
        /^queued as \w+: <ses-relay-test@relay\.test> → <bounce@simulator\.amazonses\.com>/,
      );
      expect(result.stderr).toContain('send-test failed: no Bounce within 1s');
    } finally {
      await proxied.stop();
    }
  });
});
