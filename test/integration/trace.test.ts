import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTraceStore } from '../../src/trace/trace-store.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { sendMail, simpleMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

describe('message tracing', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('finds the timeline by queue id, client Message-ID and SES MessageId', async () => {
    const trace = createTraceStore(gw.redis, gw.config.REDIS_PREFIX, gw.config.TRACE_RETENTION);
    gw.ses.failNext({ status: 503, type: 'ServiceUnavailable', message: 'busy' }, 1);
    const result = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: ['a@example.net'],
      message: simpleMessage({ extra: ['Message-ID: <trace-1@app.example>'] }),
    });
    const queueId = /queued as (\w+)/.exec(result.data!.text)![1]!;
    const send = await waitFor(() => gw.ses.sends[0]);
    const timeline = await waitFor(async () => {
      const found = await trace.lookup(queueId);
      return found && found.events.some((e) => e.type === 'ses-call' && e.outcome === 'sent')
        ? found
        : undefined;
    });
    expect(timeline.events.map((e) => (e.type === 'ses-call' ? `${e.type}:${e.outcome}` : e.type))).toEqual([
      'accepted',
      'ses-call:transient',
      'ses-call:sent',
    ]);
    expect(timeline.events[0]).toMatchObject({
      from: 'app@example.com',
      recipients: ['a@example.net'],
      clientIp: '127.0.0.1',
    });
    expect((await trace.lookup('trace-1@app.example'))?.queueId).toBe(queueId);
    expect((await trace.lookup('<trace-1@app.example>'))?.queueId).toBe(queueId);
    expect((await trace.lookup(send.messageId))?.queueId).toBe(queueId);

    expect(
      await trace.recordSesEvent(send.messageId, {
        type: 'ses-event',
        at: Date.now(),
        event: 'Delivery',
        recipients: ['a@example.net'],
      }),
    ).toBe(true);
    const after = await trace.lookup(queueId);
    expect(after?.events.at(-1)).toMatchObject({
      type: 'ses-event',
      event: 'Delivery',
      sesMessageId: send.messageId,
    });
    expect(await gw.redis.pttl(`${gw.config.REDIS_PREFIX}:trace:${queueId}`)).toBeGreaterThan(0);
    expect(await trace.lookup('no-such-id')).toBeUndefined();
  });
});
