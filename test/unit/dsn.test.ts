import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { buildDsn, type DsnInput } from '../../src/mail/dsn.js';
import { lifetimeText } from '../../src/queue/deliver.js';

const REFUSED = 'SES_PERMANENT: MessageRejected (HTTP 400): Email address is not verified.';
const TRANSIENT = 'SES_TRANSIENT: ServiceUnavailable (HTTP 503): try later';

const base: DsnInput = {
  reportingHost: 'relay.test',
  from: 'mailer-daemon@relay.test',
  to: 'app@example.com',
  queueId: 'Q1',
  arrivalDate: new Date('2026-11-22T10:00:00Z'),
  failedRecipients: [],
  diagnostic: TRANSIENT,
  status: '4.0.0',
  original: Buffer.from('From: app@example.com\r\nSubject: hello\r\n\r\nbody\r\n'),
  now: new Date('2026-11-22T11:00:00Z'),
};

/** Each per-recipient block of the message/delivery-status part, as field → value. */
function recipientBlocks(dsn: Buffer): Record<string, string>[] {
  return dsn
    .toString('latin1')
    .split('\r\n\r\n')
    .filter((block) => block.startsWith('Final-Recipient: '))
    .map((block) =>
      Object.fromEntries(
        block
          .split('\r\n')
          .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]),
      ),
    );
}

describe('buildDsn', () => {
  it('gives each failed recipient its own diagnostic and status, defaulting to the message reason', async () => {
    const dsn = buildDsn({
      ...base,
      failedRecipients: [
        { address: 'a@example.net', diagnostic: REFUSED, status: '5.0.0' },
        'b@example.net',
        { address: 'c@example.net', diagnostic: REFUSED, status: '5.0.0' },
        { address: 'd@example.net' },
      ],
    });
    expect(recipientBlocks(dsn)).toEqual([
      {
        'Final-Recipient': 'rfc822; a@example.net',
        Action: 'failed',
        Status: '5.0.0',
        'Diagnostic-Code': `X-SES; ${REFUSED}`,
      },
      {
        'Final-Recipient': 'rfc822; b@example.net',
        Action: 'failed',
        Status: '4.0.0',
        'Diagnostic-Code': `X-SES; ${TRANSIENT}`,
      },
      {
        'Final-Recipient': 'rfc822; c@example.net',
        Action: 'failed',
        Status: '5.0.0',
        'Diagnostic-Code': `X-SES; ${REFUSED}`,
      },
      {
        'Final-Recipient': 'rfc822; d@example.net',
        Action: 'failed',
        Status: '4.0.0',
        'Diagnostic-Code': `X-SES; ${TRANSIENT}`,
      },
    ]);

    // The human-readable part groups the recipients by reason, in the order the reasons first appear.
    const parsed = await simpleParser(dsn);
    expect(parsed.text?.replace(/\r\n/g, '\n')).toContain(
      [
        'Your message could not be delivered to the following recipients:',
        '',
        '  <a@example.net>',
        '  <c@example.net>',
        '',
        `Reason: ${REFUSED}`,
        '',
        '  <b@example.net>',
        '  <d@example.net>',
        '',
        `Reason: ${TRANSIENT}`,
      ].join('\n'),
    );
  });

  it('keeps one reason for all when the recipients are plain addresses', () => {
    const text = buildDsn({ ...base, failedRecipients: ['a@example.net', 'b@example.net'] }).toString(
      'latin1',
    );
    expect(recipientBlocks(Buffer.from(text, 'latin1')).map((block) => block.Status)).toEqual([
      '4.0.0',
      '4.0.0',
    ]);
    expect(text.match(/^Reason: /gm)).toHaveLength(1);
    expect(text).toContain(`  <a@example.net>\r\n  <b@example.net>\r\n\r\nReason: ${TRANSIENT}\r\n`);
  });

  it('keeps a recipient diagnostic on one ASCII line', () => {
    const dsn = buildDsn({
      ...base,
      failedRecipients: [
        { address: 'a@example.net', diagnostic: 'line one\r\nline two\u00e9', status: '5.0.0' },
      ],
    });
    expect(recipientBlocks(dsn)[0]!['Diagnostic-Code']).toBe('X-SES; line one line two ');
  });

  it('quotes only the header section of a message that had no blank line, never its body', () => {
    const original = Buffer.from(
      'From: app@example.com\r\nSubject: s\r\nTo: u@example.net\r\nThis line is body text\r\nCard number 4111 1111 1111 1111\r\n',
    );
    const text = buildDsn({ ...base, failedRecipients: ['u@example.net'], original }).toString('latin1');
    const quoted = text.slice(text.indexOf('Content-Type: text/rfc822-headers'));
    expect(quoted).toContain(
      '\r\n\r\nFrom: app@example.com\r\nSubject: s\r\nTo: u@example.net\r\n\r\n--dsn-',
    );
    expect(text).not.toContain('body text');
    expect(text).not.toContain('4111');
  });
});

describe('the queue lifetime in a failure reason', () => {
  it('is worded in the largest unit it is a whole number of', () => {
    expect(lifetimeText(30 * 60_000)).toBe('30 min');
    expect(lifetimeText(2 * 3_600_000)).toBe('2 h');
    expect(lifetimeText(3 * 86_400_000)).toBe('3 d');
    expect(lifetimeText(36 * 3_600_000)).toBe('36 h');
    expect(lifetimeText(90 * 60_000)).toBe('90 min');
    expect(lifetimeText(1000)).toBe('1 s');
    expect(lifetimeText(1500)).toBe('1500 ms');
  });
});
