import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSes, type FakeSes } from '../helpers/fake-ses.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { sendMail, simpleMessage, SmtpClient } from '../helpers/smtp-client.js';

describe('SMTP policy refusals', () => {
  let ses: FakeSes;
  let gw: TestGateway;
  beforeAll(async () => {
    ses = await startFakeSes();
    gw = await startGateway(
      {
        SMTP_ALLOWED_SENDERS: 'app@example.com,@corp.example',
        SMTP_MAX_RECIPIENTS: '3',
        SMTP_MAX_MESSAGE_BYTES: '4KiB',
      },
      { ses },
    );
  });
  afterAll(async () => {
    await gw.stop();
    await ses.stop();
  });

  it('refuses a client outside SMTP_ALLOWED_NETWORKS at connect', async () => {
    const closed = await startGateway({ SMTP_ALLOWED_NETWORKS: '10.0.0.0/8' }, { ses });
    try {
      const client = await SmtpClient.connect(closed.smtpPort);
      const greeting = await client.read();
      expect(greeting.code).toBe(554);
      expect(greeting.text).toBe('5.7.1 Client host [127.0.0.1] is not allowed to relay');
      client.close();
    } finally {
      await closed.stop();
    }
  });

  it('refuses a sender that is not allowed at MAIL with 553 5.7.1', async () => {
    const result = await sendMail(gw.smtpPort, {
      from: 'intruder@evil.example',
      to: ['u@example.net'],
      message: '',
    });
    expect(result.mail.code).toBe(553);
    expect(result.mail.text).toBe('5.7.1 <intruder@evil.example>: sender address not allowed');
  });

  it('allows listed addresses and @domain entries', async () => {
    for (const from of ['app@example.com', 'billing@corp.example']) {
      const result = await sendMail(gw.smtpPort, { from, to: ['u@example.net'], message: simpleMessage() });
      expect(result.data?.code, from).toBe(250);
    }
  });

  it('answers 452 4.5.3 past SMTP_MAX_RECIPIENTS and keeps the earlier recipients', async () => {
    const result = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: ['a@example.net', 'b@example.net', 'c@example.net', 'd@example.net'],
      message: simpleMessage(),
    });
    expect(result.rcpt.map((r) => r.code)).toEqual([250, 250, 250, 452]);
    expect(result.rcpt[3]?.text).toBe('4.5.3 Too many recipients (at most 3)');
    expect(result.data?.code).toBe(250);
  });

  it('refuses an oversized message with 552 5.3.4 at MAIL (SIZE=) and at end of DATA', async () => {
    const client = await SmtpClient.connect(gw.smtpPort);
    await client.hello();
    const declared = await client.command('MAIL FROM:<app@example.com> SIZE=999999');
    expect(declared.code).toBe(552);

    expect((await client.command('MAIL FROM:<app@example.com>')).code).toBe(250);
    expect((await client.command('RCPT TO:<u@example.net>')).code).toBe(250);
    const reply = await client.data(
      simpleMessage({ body: 'x'.repeat(900) + '\r\n'.repeat(1) + 'y'.repeat(5000) }),
    );
    expect(reply.code).toBe(552);
    expect(reply.text).toBe('5.3.4 Message exceeds the size limit of 4096 bytes');
    // The session is still usable afterwards.
    expect((await client.command('RSET')).code).toBe(250);
    client.close();
  });

  it('refuses a non-ASCII local part with 553 5.6.7 at MAIL and at RCPT', async () => {
    const client = await SmtpClient.connect(gw.smtpPort);
    await client.hello();
    const mail = await client.command('MAIL FROM:<jörg@example.com>');
    expect(mail.code).toBe(553);
    expect(mail.text).toContain('5.6.7');
    expect((await client.command('MAIL FROM:<app@example.com>')).code).toBe(250);
    const rcpt = await client.command('RCPT TO:<müller@example.net>');
    expect(rcpt.code).toBe(553);
    expect(rcpt.text).toBe('5.6.7 Non-ASCII local parts are not supported (SES has no SMTPUTF8)');
    client.close();
  });

  it('refuses MAIL and RCPT parameters it did not offer with 555 5.5.4, and takes SIZE, BODY and AUTH', async () => {
    const client = await SmtpClient.connect(gw.smtpPort);
    await client.hello();
    for (const parameter of ['SMTPUTF8', 'RET=HDRS', 'ENVID=abc', 'FOO=bar']) {
      const mail = await client.command(`MAIL FROM:<app@example.com> ${parameter}`);
      expect([mail.code, mail.text], parameter).toEqual([
        555,
        `5.5.4 MAIL FROM parameter ${parameter.split('=')[0]} not supported`,
      ]);
    }
    const mail = await client.command('MAIL FROM:<app@example.com> SIZE=100 BODY=8BITMIME AUTH=<>');
    expect(mail.code).toBe(250);
    for (const parameter of ['NOTIFY=NEVER', 'ORCPT=rfc822;u@example.net']) {
      const rcpt = await client.command(`RCPT TO:<u@example.net> ${parameter}`);
      expect([rcpt.code, rcpt.text]).toEqual([
        555,
        `5.5.4 RCPT TO parameter ${parameter.split('=')[0]} not supported`,
      ]);
    }
    expect((await client.command('RCPT TO:<u@example.net>')).code).toBe(250);
    expect((await client.data(simpleMessage())).code).toBe(250);
    client.close();
  });
});
