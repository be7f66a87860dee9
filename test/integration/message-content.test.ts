// What SES receives of a message's content, and what is refused at DATA instead: header sections
// larger than the spool threshold, lines the gateway removes, header-only messages, repeated
// single-occurrence fields, mixed line endings and repeated recipients.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SPOOL_THRESHOLD_BYTES } from '../../src/smtp/data-spool.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { sendMail, SmtpClient, type SmtpReply } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

/** A folded address list: one address per line. */
function foldedList(name: string, addresses: string[]): string {
  return `${name}: ${addresses.join(',\r\n ')}\r\n`;
}

const headerOf = (raw: Buffer) => {
  const text = raw.toString('latin1');
  return text.slice(0, text.indexOf('\r\n\r\n') + 2);
};

describe('message content as SES receives it', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ SMTP_MAX_MESSAGE_BYTES: '5MB' });
  });
  afterAll(async () => {
    await gw.stop();
  });
  beforeEach(() => {
    gw.ses.reset();
  });

  const spooled = () => gw.redis.keys(`${gw.config.REDIS_PREFIX}:spool:*`);

  /** Sends `message` (no line may start with a dot) and returns the reply to it. */
  async function send(message: string, to = ['user@example.net']): Promise<SmtpReply | undefined> {
    return (await sendMail(gw.smtpPort, { from: 'app@example.com', to, message })).data;
  }

  it('removes a Bcc field longer than the spool threshold and honours the X-SES fields after it', async () => {
    const hidden = Array.from({ length: 12_000 }, (_, i) => `secret${i}@hidden.example`);
    const message =
      'From: app@example.com\r\nTo: user@example.net\r\n' +
      foldedList('Bcc', hidden) +
      'X-SES-CONFIGURATION-SET: marketing\r\nX-SES-MESSAGE-TAGS: campaign=spring\r\n' +
      `Bcc: boss@secret.example\r\nSubject: newsletter\r\n\r\n${'Hello\r\n'.repeat(1000)}`;
    expect(message.indexOf('\r\n\r\n')).toBeGreaterThan(SPOOL_THRESHOLD_BYTES);
    const reply = await send(message, ['user@example.net', 'secret0@hidden.example']);
    expect(reply?.code).toBe(250);
    const sent = await waitFor(() => gw.ses.sends[0], { timeoutMs: 15_000 });
    const text = sent.raw.toString('latin1');
    expect(text).not.toMatch(/secret\d|boss@|^Bcc:|^X-SES-/im);
    expect(headerOf(sent.raw)).toMatch(/^Subject: newsletter\r\n/m);
    expect(sent.to).toEqual(['user@example.net', 'secret0@hidden.example']);
    expect(sent.configurationSet).toBe('marketing');
    expect(sent.tags).toEqual([{ Name: 'campaign', Value: 'spring' }]);
    await waitFor(async () => (await spooled()).length === 0, { what: 'the spool key to go' });
  });

  it('refuses a header section over 1 MiB with 552 5.3.4 and keeps nothing of it', async () => {
    const members = Array.from({ length: 45_000 }, (_, i) => `member${i}@list.example`);
    const message = `From: app@example.com\r\n${foldedList('To', members)}Subject: s\r\n\r\nHello\r\n`;
    expect(message.indexOf('\r\n\r\n')).toBeGreaterThan(1024 * 1024);
    const reply = await send(message);
    expect(`${reply?.code} ${reply?.text}`).toBe('552 5.3.4 Header section exceeds 1 MiB');
    expect(gw.logs.some((line) => line.msg === 'smtp.refused.header_size')).toBe(true);
    expect(await spooled()).toEqual([]);
    // No blank line within the first MiB, here one 2 MB line: the same reply, nothing buffered past it.
    const unended = await send(`From: app@example.com\r\nX-Data: ${'d'.repeat(2_000_000)}\r\n`);
    expect(`${unended?.code} ${unended?.text}`).toBe('552 5.3.4 Header section exceeds 1 MiB');
    expect(await spooled()).toEqual([]);
  });

  it('accepts a message whose only over-long line is a Bcc list it removes, in memory and spooled', async () => {
    const bcc = `Bcc: ${Array.from({ length: 60 }, (_, i) => `user${i}@example.com`).join(', ')}\r\n`;
    expect(bcc.length).toBeGreaterThan(1000);
    const head = `From: app@example.com\r\nTo: user@example.net\r\n${bcc}Subject: long bcc\r\n\r\n`;
    for (const body of ['hi\r\n', `${'x'.repeat(76)}\r\n`.repeat(8000)]) {
      gw.ses.reset();
      const reply = await send(head + body);
      expect(`${reply?.code} ${reply?.text}`).toMatch(/^250 /);
      const sent = await waitFor(() => gw.ses.sends[0], { timeoutMs: 15_000 });
      expect(sent.raw.toString('latin1')).not.toContain('user0@example.com');
    }
  });

  it('refuses a line SES would receive over 998 characters, numbered as the client sent it', async () => {
    const head =
      'From: app@example.com\r\nBcc: a@example.org,\r\n b@example.org,\r\n c@example.org\r\nSubject: s\r\n\r\n';
    const small = await send(`${head}short\r\n${'z'.repeat(1200)}\r\n`);
    expect(`${small?.code} ${small?.text}`).toBe(
      '550 5.6.0 Line 8 of the message is 1200 characters long; the limit is 998 (RFC 5322)',
    );
    const lines = 5000;
    const big = await send(`${head}${`${'x'.repeat(76)}\r\n`.repeat(lines)}${'z'.repeat(1200)}\r\n`);
    expect(`${big?.code} ${big?.text}`).toBe(
      `550 5.6.0 Line ${lines + 7} of the message is 1200 characters long; the limit is 998 (RFC 5322)`,
    );
    await waitFor(async () => (await spooled()).length === 0, { what: 'the spool key to go' });
  });

  it('adds the blank line SES needs to a header-only message', async () => {
    const reply = await send(
      'From: app@example.com\r\nTo: user@example.net\r\nSubject: printer test page\r\n',
    );
    expect(reply?.code).toBe(250);
    const sent = await waitFor(() => gw.ses.sends[0]);
    expect(sent.raw.toString('latin1')).toMatch(
      /^Received: from .+\r\n\tby .+\r\n\t.+\r\nDate: .+\r\nMessage-ID: <.+>\r\nFrom: app@example.com\r\nTo: user@example.net\r\nSubject: printer test page\r\n\r\n$/,
    );
  });

  it('ends the header section at an empty line whatever its line ending, so the body stays body', async () => {
    const body =
      'Dear customer,\r\nBcc: our records show\r\nDate: 2024-01-01 invoice date\r\n\r\nregards\r\n';
    const reply = await send(`From: app@example.com\nTo: user@example.net\nSubject: mixed\n\r\n${body}`);
    expect(reply?.code).toBe(250);
    const sent = await waitFor(() => gw.ses.sends[0]);
    const text = sent.raw.toString('latin1');
    // The gateway's fields take the line ending of the client's header section (LF here).
    expect(text).toMatch(/^Received: from .+\n\tby .+\n\t.+\nDate: \w{3}, /);
    expect(text.endsWith(`\nSubject: mixed\n\r\n${body}`)).toBe(true);
  });

  it('drops an exact repeat of a field SES takes once, and refuses differing ones with 550 5.6.0', async () => {
    const repeated = await send(
      'From: app@example.com\r\nMIME-Version: 1.0\r\nSubject: one\r\nMIME-Version: 1.0\r\n\r\nx\r\n',
    );
    expect(repeated?.code).toBe(250);
    const sent = await waitFor(() => gw.ses.sends[0]);
    expect(sent.raw.toString('latin1').match(/^MIME-Version:/gm)).toHaveLength(1);

    const differing = await send(
      'From: app@example.com\r\nFrom: other@example.com\r\nSubject: one\r\nSubject: two\r\n\r\nx\r\n',
    );
    expect(`${differing?.code} ${differing?.text}`).toBe(
      '550 5.6.0 Message has more than one From header field with different values (SES accepts one)',
    );
  });

  it('sends once to an IDN address given both in Unicode and in punycode', async () => {
    const client = await SmtpClient.connect(gw.smtpPort);
    await client.hello();
    expect((await client.command('MAIL FROM:<app@example.com>')).code).toBe(250);
    for (const to of ['x@bücher.de', 'x@xn--bcher-kva.de', 'X@XN--BCHER-KVA.DE', 'user@example.net']) {
      expect((await client.command(`RCPT TO:<${to}>`)).code).toBe(250);
    }
    expect((await client.data('From: app@example.com\r\nSubject: idn\r\n\r\nhi\r\n')).code).toBe(250);
    client.close();
    const sent = await waitFor(() => gw.ses.sends[0]);
    expect(sent.to).toEqual(['x@xn--bcher-kva.de', 'X@xn--bcher-kva.de', 'user@example.net']);
  });
});

describe('the size SES counts', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ SMTP_MAX_MESSAGE_BYTES: '40000000' });
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('refuses with 552 5.3.4 a message at the size limit that Received, Date and Message-ID would take past SES’s', async () => {
    const limit = gw.config.SMTP_MAX_MESSAGE_BYTES;
    const head = 'From: app@example.com\r\nTo: user@example.net\r\nSubject: at the limit\r\n\r\n';
    const line = `${'y'.repeat(998)}\r\n`;
    const lines = Math.floor((limit - head.length) / line.length);
    const tail = 'z'.repeat(limit - head.length - lines * line.length - 2);
    const message = Buffer.from(`${head}${line.repeat(lines)}${tail}\r\n`, 'latin1');
    expect(message.length).toBe(limit);
    const client = await SmtpClient.connect(gw.smtpPort);
    await client.hello();
    await client.command('MAIL FROM:<app@example.com>');
    await client.command('RCPT TO:<user@example.net>');
    expect((await client.command('DATA')).code).toBe(354);
    client.write(message);
    client.write('.\r\n');
    const reply = await client.read(60_000);
    client.close();
    expect(`${reply.code} ${reply.text}`).toMatch(
      /^552 5\.3\.4 Message is 40000\d{3} bytes as prepared for SES, over the 40000000 bytes SES accepts$/,
    );
    await waitFor(async () => (await gw.redis.keys(`${gw.config.REDIS_PREFIX}:spool:*`)).length === 0, {
      what: 'the spool key to go',
    });
  });
});
