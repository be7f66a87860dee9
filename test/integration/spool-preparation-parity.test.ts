// A message spooled to Redis while it arrives is prepared exactly as the whole message would be in
// memory (prepare.ts), whatever its shape: the bytes SES receives, their size and the first
// over-long line are the same. Driven through spoolData with real Redis, then end to end over SMTP
// for a message without a blank line that is larger than the header section limit.
import { PassThrough } from 'node:stream';
import { Redis } from 'ioredis';
import type { SMTPServerDataStream } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_HEADER_SECTION_BYTES } from '../../src/mail/header-end.js';
import { findLongLine } from '../../src/mail/message-check.js';
import { prepareMessage, type PrepareOptions } from '../../src/mail/prepare.js';
import { spoolData, SPOOL_THRESHOLD_BYTES, type SpoolResult } from '../../src/smtp/data-spool.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { sendMail } from '../helpers/smtp-client.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

const prepare: PrepareOptions = {
  queueId: 'Q1',
  hostname: 'relay.test',
  now: new Date('2026-11-22T10:00:00Z'),
  received: { helo: 'client.example', clientIp: '192.0.2.1', protocol: 'ESMTP' },
};

/** `bytes` or a little more of 76-character lines. */
const lines = (bytes: number, eol = '\r\n') => `${'x'.repeat(76)}${eol}`.repeat(Math.ceil(bytes / 78));

describe('a spooled message is prepared as the whole message would be', () => {
  const prefix = uniquePrefix('spool-parity');
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  let n = 0;
  async function spool(
    message: Buffer,
    chunkBytes = 64 * 1024,
  ): Promise<{ result: SpoolResult; key: string }> {
    const stream = new PassThrough();
    const key = `${prefix}:spool:${n++}`;
    const done = spoolData({
      stream: stream as unknown as SMTPServerDataStream,
      limitBytes: 10_000_000,
      redis,
      spoolKey: key,
      ttlMs: 60_000,
      prepare,
    });
    for (let at = 0; at < message.length; at += chunkBytes)
      stream.write(message.subarray(at, at + chunkBytes));
    stream.end();
    return { result: await done, key };
  }

  const shapes: [string, string][] = [
    ['a Bcc and CRLF lines', `From: a@example.com\r\nBcc: b@example.org\r\n\r\n${lines(600_000)}`],
    ['bare LF lines', `From: a@example.com\nBcc: b@example.org\n\n${lines(600_000, '\n')}`],
    [
      'a header section past the spool threshold',
      `From: a@example.com\r\nTo: ${Array.from({ length: 20_000 }, (_, i) => `m${i}@list.example`).join(',\r\n ')}\r\n\r\n${lines(300_000)}`,
    ],
    [
      'no blank line within the header section limit (a report after a Subject line)',
      `From: a@example.com\r\nSubject: nightly export\r\nBcc: b@example.org\r\n${lines(2_000_000)}`,
    ],
    [
      'no blank line within the limit, one further down the body',
      `From: a@example.com\r\nSubject: s\r\n${lines(1_200_000)}\r\nBcc: body text\r\n${lines(300_000)}`,
    ],
    ['no header fields at all', lines(2_000_000)],
    ['a long line in the body', `From: a@example.com\r\n\r\n${lines(300_000)}${'z'.repeat(1500)}\r\nend\r\n`],
  ];

  it.each(shapes)('%s', async (_, text) => {
    const message = Buffer.from(text, 'latin1');
    expect(message.length).toBeGreaterThan(SPOOL_THRESHOLD_BYTES);
    const { result, key } = await spool(message);
    const whole = prepareMessage(message, prepare);
    expect(result.kind).toBe('spooled');
    if (result.kind !== 'spooled') return;
    const stored = await redis.getBuffer(key);
    expect(stored?.equals(whole.raw)).toBe(true);
    expect(result.size).toBe(whole.raw.length);
    expect(result.longLine).toEqual(findLongLine(whole.raw));
    expect(result.prepared.messageId).toBe(whole.messageId);
    expect(result.prepared.hasFrom).toBe(whole.hasFrom);
  });

  it('refuses header fields that run past the limit, and a first line that never ends', async () => {
    const fields = await spool(Buffer.from(`From: a@example.com\r\n${'X-A: b\r\n'.repeat(200_000)}`));
    expect(fields.result.kind).toBe('header-too-big');
    const unended = await spool(Buffer.from(`From: a@example.com\r\nX-Data: ${'d'.repeat(2_000_000)}`));
    expect(unended.result.kind).toBe('header-too-big');
    expect(await redis.exists(fields.key, unended.key)).toBe(0);
  });
});

describe('a large message without a blank line, over SMTP', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ SMTP_MAX_MESSAGE_BYTES: '5MB' });
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('is queued with its leading fields as header section, not refused as a header over 1 MiB', async () => {
    // `(echo "Subject: export"; cat export.csv) | sendmail`: no blank line, a 2 MB report.
    const report = 'date,customer,amount\r\n' + '2026-11-01,ACME Corp,100.00\r\n'.repeat(80_000);
    const message = `From: app@example.com\r\nTo: user@example.net\r\nSubject: nightly export\r\n${report}`;
    expect(message.length).toBeGreaterThan(2 * MAX_HEADER_SECTION_BYTES);
    const result = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: ['user@example.net'],
      message,
    });
    expect(`${result.data?.code} ${result.data?.text}`).toMatch(/^250 /);
    const sent = await waitFor(() => gw.ses.sends[0], { timeoutMs: 15_000 });
    const text = sent.raw.toString('latin1');
    expect(text).toMatch(/\r\nSubject: nightly export\r\n\r\ndate,customer,amount\r\n/);
    expect(text.endsWith(report)).toBe(true);
    await waitFor(async () => (await gw.redis.keys(`${gw.config.REDIS_PREFIX}:spool:*`)).length === 0, {
      what: 'the spool key to go',
    });
  });
});
