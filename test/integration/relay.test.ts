import { simpleParser } from 'mailparser';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { sendMail, simpleMessage, SmtpClient } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

function queueIdOf(text: string): string {
  const id = /queued as ([A-Z0-9]+)/.exec(text)?.[1];
  if (!id) throw new Error(`no queue id in "${text}"`);
  return id;
}

describe('relay: SMTP in, SES out', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ SES_CONFIGURATION_SET: 'default-set' });
  });
  afterAll(async () => {
    await gw.stop();
  });
  beforeEach(() => {
    gw.ses.reset();
  });

  it('queues a message, replies with the queue id, delivers it and logs both ends', async () => {
    const result = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: ['user@example.net'],
      message: simpleMessage({ subject: 'hello', extra: ['Message-ID: <hello-1@app.example>'] }),
    });
    expect(result.mail.code).toBe(250);
    expect(result.data?.code).toBe(250);
    expect(result.data?.text).toMatch(/^2\.0\.0 Ok: queued as [A-Z0-9]+$/);
    const queueId = queueIdOf(result.data!.text);
    const send = await waitFor(() => gw.ses.sends[0]);
    expect(send.from).toBe('app@example.com');
    expect(send.to).toEqual(['user@example.net']);
    expect(send.configurationSet).toBe('default-set');
    expect(send.raw.toString()).toContain('Subject: hello');

    const accepted = await waitFor(() =>
      gw.logs.find((l) => l.msg === 'smtp.accepted' && l.queueId === queueId),
    );
    expect(accepted.messageId).toBe('hello-1@app.example');
    const sent = await waitFor(() => gw.logs.find((l) => l.msg === 'ses.sent' && l.queueId === queueId));
    expect(sent).toMatchObject({ messageId: 'hello-1@app.example', sesMessageId: send.messageId });
    // Bytes are removed once the message is out.
    await waitFor(async () => (await gw.redis.exists(`${gw.config.REDIS_PREFIX}:raw:${queueId}`)) === 0);
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

  it('passes an 8-bit UTF-8 body through byte for byte', async () => {
    const body = 'Grüße aus Köln — ½ € ✓\r\n日本語のテキスト\r\n';
    const message = Buffer.from(
      `From: app@example.com\r\nTo: user@example.net\r\nSubject: 8bit\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${body}`,
      'utf8',
    );
    const client = await SmtpClient.connect(gw.smtpPort);
    await client.hello();
    expect((await client.command('MAIL FROM:<app@example.com> BODY=8BITMIME')).code).toBe(250);
    expect((await client.command('RCPT TO:<user@example.net>')).code).toBe(250);
    expect((await client.data(message)).code).toBe(250);
    client.close();
    const send = await waitFor(() => gw.ses.sends[0]);
    expect(send.raw.includes(Buffer.from(body, 'utf8'))).toBe(true);
  });

  it('delivers attachments intact (nodemailer client)', async () => {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: gw.smtpPort,
      secure: false,
      ignoreTLS: true,
    });
    const content = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 256));
    const info = await transport.sendMail({
      from: 'app@example.com',
      to: 'user@example.net',
      subject: 'with attachment',
      text: 'see attached',
      attachments: [{ filename: 'data.bin', content }],
    });
    expect(info.response).toMatch(/^250 2\.0\.0 Ok: queued as/);
    const send = await waitFor(() => gw.ses.sends[0]);
    const parsed = await simpleParser(send.raw);
    expect(parsed.attachments[0]?.filename).toBe('data.bin');
    expect(Buffer.compare(parsed.attachments[0]!.content, content)).toBe(0);
  });

  it('sends Bcc recipients through Destination and removes the Bcc header', async () => {
    const result = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: ['user@example.net', 'secret@example.org'],
      message: simpleMessage({ extra: ['Bcc: secret@example.org'] }),
    });
    expect(result.data?.code).toBe(250);
    const send = await waitFor(() => gw.ses.sends[0]);
    expect(send.to).toEqual(['user@example.net', 'secret@example.org']);
    const headers = send.raw.toString().split('\r\n\r\n')[0]!;
    expect(headers).not.toMatch(/^bcc:/im);
    expect(send.raw.toString()).not.toContain('secret@example.org');
  });

  it('splits 120 recipients into 3 SES calls of at most 50', async () => {
    const recipients = Array.from({ length: 120 }, (_, i) => `r${i}@example.net`);
    const result = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: recipients,
      message: simpleMessage(),
    });
    expect(result.data?.code).toBe(250);
    await waitFor(() => gw.ses.sends.length === 3);
    const sends = [...gw.ses.sends].sort((a, b) => a.at - b.at);
    expect(sends.map((s) => s.to.length)).toEqual([50, 50, 20]);
    expect(sends.flatMap((s) => s.to)).toEqual(recipients);
    expect(new Set(sends.map((s) => s.raw.toString())).size).toBe(1);
  });

  it('honours X-SES-CONFIGURATION-SET and X-SES-MESSAGE-TAGS and strips them', async () => {
    const result = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: ['user@example.net'],
      message: simpleMessage({
        extra: [
          'X-SES-CONFIGURATION-SET: marketing',
          'X-SES-MESSAGE-TAGS: campaign=black-friday, team=growth',
        ],
      }),
    });
    expect(result.data?.code).toBe(250);
    const send = await waitFor(() => gw.ses.sends[0]);
    expect(send.configurationSet).toBe('marketing');
    expect(send.tags).toEqual([
      { Name: 'campaign', Value: 'black-friday' },
      { Name: 'team', Value: 'growth' },
    ]);
    expect(send.raw.toString()).not.toMatch(/x-ses-/i);
  });

  it('delivers mail from the null sender without FromEmailAddress', async () => {
    const result = await sendMail(gw.smtpPort, {
      from: '',
      to: ['user@example.net'],
      message: simpleMessage(),
    });
    expect(result.data?.code).toBe(250);
    const send = await waitFor(() => gw.ses.sends[0]);
    expect(send.from).toBeUndefined();
  });

  it('converts an IDN recipient domain to punycode', async () => {
    const result = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: ['info@bücher.example'],
      message: simpleMessage(),
    });
    expect(result.rcpt[0]?.code).toBe(250);
    const send = await waitFor(() => gw.ses.sends[0]);
    expect(send.to).toEqual(['info@xn--bcher-kva.example']);
  });
});
