import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { sendMail, simpleMessage, SmtpClient } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

describe('relay: SMTP in, SES out', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('queues a message, replies with the queue id and delivers it to SES', async () => {
    const result = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: ['user@example.net'],
      message: simpleMessage({ subject: 'hello' }),
    });
    expect(result.data?.code).toBe(250);
    const queueId = /queued as ([A-Z0-9]+)/.exec(result.data!.text)?.[1];
    expect(queueId).toBeTruthy();
    const send = await waitFor(() => gw.ses.sends.find((s) => s.raw.toString().includes('Subject: hello')));
    expect(send.from).toBe('app@example.com');
    expect(send.to).toEqual(['user@example.net']);
  });

  it('advertises PIPELINING, 8BITMIME and SIZE but not SMTPUTF8', async () => {
    const client = await SmtpClient.connect(gw.smtpPort);
    const ehlo = await client.hello();
    client.close();
    expect(ehlo.code).toBe(250);
    expect(ehlo.lines).toContain('PIPELINING');
    expect(ehlo.lines).toContain('8BITMIME');
    expect(ehlo.lines).toContain(`SIZE ${10 * 1024 * 1024}`);
    expect(ehlo.lines.some((line) => line.includes('SMTPUTF8'))).toBe(false);
  });
});
