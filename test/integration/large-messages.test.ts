import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPOOL_THRESHOLD_BYTES } from '../../src/smtp/data-spool.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { SmtpClient, sendMail } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

/** A message with `bodyBytes` of 76-character lines and a Bcc header. */
function bigMessage(bodyBytes: number, lineChars = 76): string {
  const line = `${'x'.repeat(lineChars)}\r\n`;
  const body = line.repeat(Math.ceil(bodyBytes / line.length));
  return `From: app@example.com\r\nTo: user@example.net\r\nBcc: hidden@example.org\r\nSubject: big\r\n\r\n${body}`;
}

const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

describe('large messages are spooled to Redis while they arrive', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ SMTP_MAX_MESSAGE_BYTES: '3MB' });
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('delivers a message well above the spool threshold byte for byte, with Bcc removed', async () => {
    const message = bigMessage(2 * 1000 * 1000);
    expect(message.length).toBeGreaterThan(SPOOL_THRESHOLD_BYTES * 4);
    const result = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: ['user@example.net', 'hidden@example.org'],
      message,
    });
    expect(result.data?.code).toBe(250);
    const send = await waitFor(() => gw.ses.sends[0], { timeoutMs: 15_000 });
    const text = send.raw.toString('latin1');
    const body = message.slice(message.indexOf('\r\n\r\n'));
    expect(sha(text.slice(text.indexOf('\r\n\r\n')))).toBe(sha(body));
    expect(text.slice(0, text.indexOf('\r\n\r\n'))).not.toMatch(/^Bcc:/im);
    expect(send.to).toEqual(['user@example.net', 'hidden@example.org']);
    await waitFor(async () => (await gw.redis.keys(`${gw.config.REDIS_PREFIX}:spool:*`)).length === 0);
  });

  it('refuses an oversized message with 552 after draining it, and leaves no spooled bytes', async () => {
    const result = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: ['user@example.net'],
      message: bigMessage(3_500_000),
    });
    expect(result.data?.code).toBe(552);
    await waitFor(async () => (await gw.redis.keys(`${gw.config.REDIS_PREFIX}:spool:*`)).length === 0);
  });

  it('refuses a spooled message with a line SES would refuse (550) and leaves no spooled bytes', async () => {
    const message =
      bigMessage(600_000).replace('Subject: big', `Subject: big\r\nX-Long: ${'y'.repeat(10)}`) +
      `${'z'.repeat(1200)}\r\n`;
    const result = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: ['user@example.net'],
      message,
    });
    expect(result.data?.code).toBe(550);
    expect(result.data?.text).toMatch(/characters long/);
    await waitFor(async () => (await gw.redis.keys(`${gw.config.REDIS_PREFIX}:spool:*`)).length === 0);
  });

  it('deletes the spooled bytes of a client that disconnects mid-message, and queues nothing', async () => {
    const spooled = async () => await gw.redis.keys(`${gw.config.REDIS_PREFIX}:spool:*`);
    const sendsBefore = gw.ses.sends.length;
    const acceptedBefore = gw.logs.filter((line) => line.msg === 'smtp.accepted').length;
    const client = await SmtpClient.connect(gw.smtpPort);
    await client.read();
    await client.command('EHLO client.example');
    await client.command('MAIL FROM:<app@example.com>');
    await client.command('RCPT TO:<user@example.net>');
    expect((await client.command('DATA')).code).toBe(354);
    const message = bigMessage(SPOOL_THRESHOLD_BYTES * 2);
    await new Promise<void>((resolve) => client.socket.write(message, () => resolve()));
    await waitFor(async () => (await spooled()).length === 1, { what: 'the message to be spooled' });
    client.socket.destroy();
    await waitFor(async () => (await spooled()).length === 0, { what: 'the spooled bytes to be deleted' });
    // The session's intake has ended (it holds no shutdown back), and nothing was queued.
    await waitFor(() => gw.logs.some((line) => line.msg === 'smtp.data_aborted'), { what: 'the abort' });
    expect(gw.logs.filter((line) => line.msg === 'smtp.accepted')).toHaveLength(acceptedBefore);
    expect(gw.ses.sends.length).toBe(sendsBefore);
  });
});
