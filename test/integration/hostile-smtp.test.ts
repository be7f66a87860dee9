// Hostile SMTP clients, one behaviour each: every malformed input gets a clear reply (or a clean
// close) and the listener keeps serving everybody else. The generated version of these is
// hostile-fuzz.test.ts; this file pins the answers.
import net from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { sendMail, simpleMessage, SmtpClient } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';
import { heapAfterGc, REPLY_LINE, runSmtpSession, type SmtpTranscript } from '../fuzz/harness.js';

const MAX_BYTES = 64 * 1024;

/** One session over a raw socket: the writes go out in one piece, then QUIT. */
function pipelined(port: number, writes: string[]): Promise<SmtpTranscript> {
  return runSmtpSession(port, { early: false, pipelined: true, ehlo: false, writes });
}

/** Replies without the greeting, as "code text". */
const replies = (transcript: SmtpTranscript) => transcript.lines.filter((line) => !line.startsWith('220 '));

async function stillServes(gw: TestGateway): Promise<void> {
  const result = await sendMail(gw.smtpPort, {
    from: 'app@example.com',
    to: ['user@example.net'],
    message: simpleMessage({ subject: 'still here' }),
  });
  expect(result.data?.code).toBe(250);
}

describe('hostile SMTP input', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ SMTP_MAX_MESSAGE_BYTES: String(MAX_BYTES), SMTP_NAME: 'relay.test' });
  });
  afterAll(async () => {
    await gw.stop();
  });
  beforeEach(() => {
    gw.ses.reset();
  });

  it('answers random bytes with 500 and closes the session after ten unrecognized commands', async () => {
    const junk = Array.from({ length: 12 }, (_, i) =>
      Buffer.from([0xff, 0xfe, i, 0x80, 0x1b, 0x7f, 0x41 + i, 0x0d, 0x0a]).toString('latin1'),
    );
    const transcript = await pipelined(gw.smtpPort, junk);
    expect(transcript.bad).toEqual([]);
    expect(replies(transcript)).toEqual([
      ...Array<string>(9).fill('500 Error: command not recognized'),
      '421 Error: too many unrecognized commands',
    ]);
    await stillServes(gw);
  });

  it('closes the session with 421 on a command line over 16 KiB, with or without its line ending', async () => {
    for (const line of [`EHLO ${'a'.repeat(20_000)}\r\n`, `NOOP ${'a'.repeat(20_000)}`]) {
      const transcript = await pipelined(gw.smtpPort, ['EHLO client.test\r\n', line]);
      expect(transcript.bad).toEqual([]);
      expect(transcript.hung).toBe(false);
      expect(replies(transcript).at(-1)).toBe('421 Error: Command line too long');
    }
    await stillServes(gw);
  });

  it('refuses NUL and other control bytes in EHLO and in addresses with 501', async () => {
    const client = await SmtpClient.connect(gw.smtpPort);
    expect((await client.read()).code).toBe(220);
    expect((await client.command('EHLO a\0b')).code).toBe(501);
    expect((await client.command('EHLO client.test')).code).toBe(250);
    expect((await client.command('MAIL FROM:<a\0b@example.com>')).text).toBe(
      'Error: Bad sender address syntax',
    );
    expect((await client.command('MAIL FROM:<app@example.com>')).code).toBe(250);
    const rcpt = await client.command('RCPT TO:<u\x1b[31m@example.net>');
    expect(rcpt.text).toBe('Error: Bad recipient address syntax');
    expect((await client.command('RCPT TO:<u\u200b@example.net>')).code).toBe(501);
    client.close();
  });

  it('takes commands ended by a bare LF, and never reads a bare CR or LF inside a line as a new command', async () => {
    const transcript = await pipelined(gw.smtpPort, [
      'EHLO client.test\n',
      'MAIL FROM:<app@example.com>\n',
      'RCPT TO:<user@example.net\rRCPT TO:<evil@example.org>\r\n',
      'RCPT TO:<user@example.net\nRCPT TO:<evil@example.org>>\r\n',
      'RSET\n',
    ]);
    expect(transcript.bad).toEqual([]);
    const finals = replies(transcript).filter((line) => line[3] === ' ');
    // EHLO and MAIL taken; the CR stays inside its line, the LF splits its line in two: three 501s,
    // no RCPT taken. RSET, then the session trailer: an empty line and "." (500), QUIT.
    expect(finals.map((line) => Number(line.slice(0, 3)))).toEqual([
      250, 250, 501, 501, 501, 250, 500, 500, 221,
    ]);
    expect(finals.filter((line) => line === '250 Accepted')).toHaveLength(1);
  });

  it('answers commands out of order with 503 and keeps the session usable', async () => {
    const client = await SmtpClient.connect(gw.smtpPort);
    expect((await client.read()).code).toBe(220);
    expect((await client.command('MAIL FROM:<app@example.com>')).text).toBe('Error: send HELO/EHLO first');
    expect((await client.command('EHLO client.test')).code).toBe(250);
    expect((await client.command('DATA')).text).toBe('Error: need RCPT command');
    expect((await client.command('RCPT TO:<user@example.net>')).text).toBe('Error: need MAIL command');
    expect((await client.command('MAIL FROM:<app@example.com>')).code).toBe(250);
    expect((await client.command('MAIL FROM:<app@example.com>')).text).toBe('Error: nested MAIL command');
    expect((await client.command('RCPT TO:<user@example.net>')).code).toBe(250);
    expect((await client.data(simpleMessage())).code).toBe(250);
    client.close();
  });

  it('answers hundreds of pipelined commands in order, and serves another client meanwhile', async () => {
    const rcpts = Array.from({ length: 300 }, (_, i) => `RCPT TO:<user${i}@example.net>\r\n`);
    const abuse = pipelined(gw.smtpPort, [
      'EHLO client.test\r\n',
      'NOOP\r\n'.repeat(500),
      'MAIL FROM:<app@example.com>\r\n',
      ...rcpts,
      'DATA\r\n',
      `${simpleMessage()}.\r\n`,
    ]);
    const other = stillServes(gw);
    const [transcript] = await Promise.all([abuse, other]);
    expect(transcript.bad).toEqual([]);
    const finals = replies(transcript).filter((line) => line[3] === ' ');
    // EHLO, 500 NOOP, MAIL, 300 RCPT, 354, 250 queued, then the session trailer ending in QUIT.
    expect(finals.slice(1, 501).every((line) => line === '250 OK')).toBe(true);
    expect(finals.slice(501, 802).every((line) => line === '250 Accepted')).toBe(true);
    expect(finals[802]).toMatch(/^354 /);
    expect(finals[803]).toMatch(/^250 2\.0\.0 Ok: queued as /);
    expect(finals.at(-1)).toBe('221 Bye');
    const send = await waitFor(() => gw.ses.sends.find((s) => s.to.includes('user299@example.net')));
    expect(send).toBeDefined();
  });

  it('reads past SMTP_MAX_MESSAGE_BYTES to the end, answers 552 5.3.4, and holds no more than the limit', async () => {
    const client = await SmtpClient.connect(gw.smtpPort);
    await client.hello();
    await client.command('MAIL FROM:<app@example.com>');
    await client.command('RCPT TO:<user@example.net>');
    expect((await client.command('DATA')).code).toBe(354);
    const baseline = await heapAfterGc();
    const chunk = Buffer.from(`${'x'.repeat(1022)}\r\n`.repeat(4096)); // 4 MiB of short lines
    let peak = 0;
    for (let sent = 0; sent < 32; sent += 4) {
      for (let i = 0; i < 4; i++) {
        if (!client.socket.write(chunk)) await new Promise((resolve) => client.socket.once('drain', resolve));
      }
      peak = Math.max(peak, (await heapAfterGc()) - baseline);
    }
    client.write('.\r\n');
    const reply = await client.read(30_000);
    expect(reply.code).toBe(552);
    expect(reply.text).toBe(`5.3.4 Message exceeds the size limit of ${MAX_BYTES} bytes`);
    // 32 MiB went through; what stayed behind is buffers in flight, not the message.
    expect(peak, `peak heap growth ${peak} bytes`).toBeLessThan(16 * 1024 * 1024);
    expect((await client.command('RSET')).code).toBe(250);
    client.close();
    const refused = gw.logs.find((line) => line.msg === 'smtp.refused.size');
    expect(refused?.bytes).toBeGreaterThanOrEqual(32 * 1024 * 1024);
  });

  it('refuses a header line over 998 characters at the end of DATA with 550 5.6.0, naming the line', async () => {
    const result = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: ['user@example.net'],
      message: simpleMessage({ extra: [`X-Long: ${'h'.repeat(1000)}`] }),
    });
    expect(result.data?.code).toBe(550);
    expect(result.data?.text).toBe(
      '5.6.0 Line 4 of the message is 1008 characters long; the limit is 998 (RFC 5322)',
    );
    expect(gw.logs.some((line) => line.msg === 'smtp.refused.content')).toBe(true);
  });

  it('refuses a body line over 998 characters too, as SES counts every line of the message', async () => {
    const result = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: ['user@example.net'],
      message: simpleMessage({ body: `short\r\n${'b'.repeat(999)}` }),
    });
    expect(result.data?.code).toBe(550);
    expect(result.data?.text).toMatch(/^5\.6\.0 Line 6 of the message is 999 characters long/);
  });

  it('accepts a line of exactly 998 characters and a long header folded into short lines', async () => {
    const folded = Array.from({ length: 40 }, (_, i) => `recipient${i}@example.net`).join(',\r\n ');
    const message = simpleMessage({ extra: [`Cc: ${folded}`], body: 'x'.repeat(998) });
    const result = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: ['user@example.net'],
      message,
    });
    expect(result.data?.code).toBe(250);
    const send = await waitFor(() => gw.ses.sends.find((s) => s.raw.includes('x'.repeat(998))));
    expect(send.raw.toString('latin1')).toContain(`${'x'.repeat(998)}\r\n`);
    expect(send.raw.toString('latin1')).toContain(folded);
  });

  it('refuses a message without a From field with 550 5.6.0, and the session stays usable', async () => {
    const client = await SmtpClient.connect(gw.smtpPort);
    await client.hello();
    await client.command('MAIL FROM:<app@example.com>');
    await client.command('RCPT TO:<user@example.net>');
    const reply = await client.data('To: user@example.net\r\nSubject: anonymous\r\n\r\nWho sent this?\r\n');
    expect(reply.code).toBe(550);
    expect(reply.text).toBe('5.6.0 Message has no From header field (RFC 5322, and SES requires it)');
    expect((await client.command('MAIL FROM:<app@example.com>')).code).toBe(250);
    expect((await client.command('RCPT TO:<user@example.net>')).code).toBe(250);
    expect((await client.data(simpleMessage())).code).toBe(250);
    client.close();
    const sent = await waitFor(() => gw.ses.sends.find((s) => s.raw.includes('Subject: Test')));
    expect(sent.raw.toString()).not.toContain('Who sent this?');
  });

  it("refuses cron's From: root (no @domain, which SES refuses for good) with 550 5.6.0", async () => {
    const client = await SmtpClient.connect(gw.smtpPort);
    await client.hello();
    for (const from of ['root (Cron Daemon)', 'undisclosed-recipients:;']) {
      await client.command('MAIL FROM:<app@example.com>');
      await client.command('RCPT TO:<user@example.net>');
      const reply = await client.data(
        `From: ${from}\r\nTo: user@example.net\r\nSubject: cron\r\n\r\nOutput\r\n`,
      );
      expect(`${from}: ${reply.code} ${reply.text}`).toBe(
        `${from}: 550 5.6.0 The From header field has no address with a domain (user@domain); SES refuses it`,
      );
    }
    client.close();
  });

  it('adds Received, then Date and Message-ID (queue id @ SMTP_NAME) to a message without them, end to end', async () => {
    const before = Date.now();
    const result = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: ['user@example.net'],
      message:
        'From: App <app@example.com>\r\nTo: user@example.net\r\nSubject: bare\r\n\r\nNo Date, no Message-ID.\r\n',
    });
    const queueId = /queued as (\w+)/.exec(result.data!.text)![1]!;
    const send = await waitFor(() => gw.ses.sends.find((s) => s.raw.includes('Subject: bare')));
    const head = send.raw.toString('latin1').split('\r\n\r\n')[0]!.split('\r\n');
    // The trace field first (three lines), then Date and Message-ID, then the client's fields.
    expect(head.slice(0, 2)).toEqual([
      'Received: from client.test ([127.0.0.1])',
      `\tby relay.test (ses-relay) with ESMTP id ${queueId};`,
    ]);
    expect(head[2]).toMatch(/^\t\w{3}, \d{1,2} \w{3} \d{4} [\d:]{8} \+0000$/);
    expect(head[4]).toBe(`Message-ID: <${queueId}@relay.test>`);
    const date = /^Date: (.+ \+0000)$/.exec(head[3]!)?.[1];
    expect(date).toBeDefined();
    expect(Date.parse(date!)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(head.slice(5)).toEqual(['From: App <app@example.com>', 'To: user@example.net', 'Subject: bare']);
  });

  it('takes a quoted local part and delivers to exactly that address', async () => {
    const result = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: ['"john.doe"@example.net'],
      message: simpleMessage(),
    });
    expect(result.rcpt[0]?.code).toBe(250);
    expect((await waitFor(() => gw.ses.sends.find((s) => s.to[0]?.startsWith('"john')))).to).toEqual([
      '"john.doe"@example.net',
    ]);
  });

  it.each([
    // smtp-server's own parser answers these.
    ['a quoted local part with a space', 'RCPT TO:<"john doe"@example.net>', 501],
    ['two addresses with a comma', 'RCPT TO:<a@example.org,b@example.net>', 501],
    ['consecutive dots', 'RCPT TO:<a..b@example.net>', 501],
    ['a leading dot', 'RCPT TO:<.a@example.net>', 501],
    ['a domain of dots', 'RCPT TO:<a@..>', 501],
    ['a domain label with an underscore', 'RCPT TO:<a@a_b.example>', 501],
    ['an unclosed bracket', 'RCPT TO:<a@example.net', 501],
    ['nested brackets', 'RCPT TO:<<a@example.net>>', 501],
    // A single bare address is taken (bare-envelope-address.ts); anything else without brackets is not.
    ['two addresses without brackets', 'RCPT TO:a@example.net b@example.net', 501],
    ['a bare address with two @', 'RCPT TO:a@b@example.net', 501],
    // The gateway's RFC 5321 check answers the rest, before SES would fail the whole message.
    ['a comma (a list in disguise)', 'RCPT TO:<a,b@example.net>', 553],
    ['a semicolon', 'RCPT TO:<a;b@example.net>', 553],
    ['a comment', 'RCPT TO:<(c)a@example.net>', 553],
    ['a stray quote', 'RCPT TO:<a"b@example.net>', 553],
    ['a backslash outside quotes', 'RCPT TO:<a\\b@example.net>', 553],
    ['a local part over 64 characters', `RCPT TO:<${'l'.repeat(65)}@example.net>`, 553],
    ['a domain label over 63 characters', `RCPT TO:<a@${'d'.repeat(64)}.example>`, 553],
    ['a domain ending in a hyphen', 'RCPT TO:<a@example.net->', 553],
    ['a non-ASCII local part', 'RCPT TO:<jörg@example.net>', 553],
  ])('refuses %s at RCPT with a clear reply', async (what, command, code) => {
    const client = await SmtpClient.connect(gw.smtpPort);
    await client.hello();
    await client.command('MAIL FROM:<app@example.com>');
    const reply = await client.command(command);
    const address = /<(.*)>$/.exec(command)?.[1] ?? '';
    const text =
      code === 501
        ? 'Error: Bad recipient address syntax'
        : what === 'a non-ASCII local part'
          ? '5.6.7 Non-ASCII local parts are not supported (SES has no SMTPUTF8)'
          : `5.1.3 <${address}>: not a valid mailbox address`;
    expect([reply.code, reply.text]).toEqual([code, text]);
    expect((await client.command('RCPT TO:<user@example.net>')).code).toBe(250);
    client.close();
  });

  it('never takes a second bracketed address as a recipient: it is a parameter, and refused as one', async () => {
    const client = await SmtpClient.connect(gw.smtpPort);
    await client.hello();
    await client.command('MAIL FROM:<app@example.com>');
    expect((await client.command('RCPT TO:<first@example.net> <evil@example.org>')).code).toBe(555);
    expect((await client.command('RCPT TO:<first@example.net>')).code).toBe(250);
    expect((await client.data(simpleMessage())).code).toBe(250);
    client.close();
    expect((await waitFor(() => gw.ses.sends.find((s) => s.to.includes('first@example.net')))).to).toEqual([
      'first@example.net',
    ]);
  });

  it('refuses a malformed sender at MAIL with 553 5.1.7 (a bad sender address)', async () => {
    const client = await SmtpClient.connect(gw.smtpPort);
    await client.hello();
    const reply = await client.command('MAIL FROM:<app;rm@example.com>');
    expect(reply.code).toBe(553);
    expect(reply.text).toBe('5.1.7 <app;rm@example.com>: not a valid mailbox address');
    expect((await client.command('MAIL FROM:<>')).code).toBe(250);
    client.close();
  });

  it('keeps every reply line printable ASCII, whatever the client sent', async () => {
    const transcript = await pipelined(gw.smtpPort, [
      'EHLO client.test\r\n',
      'MAIL FROM:<\u00e9\u00ff\u0007@example.com>\r\n',
      'MAIL FROM:<app@example.com>\r\n',
      'RCPT TO:<\u001b]0;title\u0007@example.net>\r\n',
      'VRFY \u0000\u00ff\r\n',
    ]);
    expect(transcript.bad).toEqual([]);
    expect(transcript.lines.every((line) => REPLY_LINE.test(line))).toBe(true);
  });
});

describe('slow SMTP clients', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ SMTP_SOCKET_TIMEOUT: '1s', SMTP_MAX_SESSION_TIME: '2s', ROLES: 'smtp' });
  });
  afterAll(async () => {
    await gw.stop();
  });

  /** Opens a transaction and enters DATA; returns the socket and everything it will receive. */
  async function inData() {
    const client = await SmtpClient.connect(gw.smtpPort);
    await client.hello();
    await client.command('MAIL FROM:<app@example.com>');
    await client.command('RCPT TO:<user@example.net>');
    expect((await client.command('DATA')).code).toBe(354);
    return client;
  }

  it('closes a DATA stream that stalls, after SMTP_SOCKET_TIMEOUT, with 421', async () => {
    const client = await inData();
    client.write('Subject: and then nothing\r\n');
    const reply = await client.read(5000);
    expect(reply.code).toBe(421);
    expect(reply.text).toBe('Timeout - closing connection');
    await waitFor(() => client.closed, { what: 'the server to close the socket' });
  });

  it('closes a DATA stream that trickles forever once SMTP_MAX_SESSION_TIME has passed (421 4.4.2)', async () => {
    const client = await inData();
    const started = Date.now();
    // A byte every 200 ms keeps the socket timeout (1 s) from ever firing.
    const trickle = setInterval(() => {
      if (!client.closed) client.write('x');
    }, 200);
    try {
      const reply = await client.read(15_000);
      expect(reply.code).toBe(421);
      expect(reply.text).toBe('4.4.2 Session time limit reached, closing');
      await waitFor(() => client.closed, { what: 'the server to close the socket' });
      // The limit (2 s) counts from the connect; the sweep runs every second.
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThan(1500);
      expect(elapsed).toBeLessThan(4500);
    } finally {
      clearInterval(trickle);
    }
    expect(gw.logs.some((line) => line.msg === 'smtp.session_too_long')).toBe(true);
    // The listener still takes new sessions.
    const probe = net.connect(gw.smtpPort, '127.0.0.1');
    const greeting = await new Promise<string>((resolve) =>
      probe.once('data', (d: Buffer) => resolve(d.toString())),
    );
    probe.destroy();
    expect(greeting).toMatch(/^220 /);
  }, 25_000);
});
