import { describe, expect, it } from 'vitest';
import { parseTagHeader, prepareMessage } from '../../src/mail/prepare.js';

const opts = { queueId: 'Q1', hostname: 'relay.test', now: new Date('2026-11-22T10:00:00Z') };

describe('preparing a message for SES', () => {
  it('removes Bcc (folded too) and keeps the body bytes unchanged', () => {
    const body = 'Grüße\r\n\r\nsecond paragraph\r\nBcc: not a header\r\n';
    const input = Buffer.from(
      `From: a@example.com\r\nTo: b@example.net\r\nBcc: hidden@example.org,\r\n  other@example.org\r\nSubject: x\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <m1@example.com>\r\n\r\n${body}`,
      'utf8',
    );
    const out = prepareMessage(input, opts);
    const text = out.raw.toString('utf8');
    const headers = text.slice(0, text.indexOf('\r\n\r\n'));
    expect(headers).not.toMatch(/^Bcc:/im);
    expect(text).not.toContain('hidden@example.org');
    expect(text).not.toContain('other@example.org');
    expect(text.endsWith(`\r\n\r\n${body}`)).toBe(true);
    expect(out.messageId).toBe('m1@example.com');
  });

  it('turns X-SES headers into a configuration set and tags and removes them', () => {
    const input = Buffer.from(
      'From: a@example.com\r\nX-SES-CONFIGURATION-SET: Marketing_1\r\nX-SES-MESSAGE-TAGS: campaign=nov, tier=gold, bad tag=x\r\nDate: x\r\nMessage-ID: <a@b>\r\n\r\nbody',
    );
    const out = prepareMessage(input, opts);
    expect(out.configurationSet).toBe('Marketing_1');
    expect(out.tags).toEqual([
      { Name: 'campaign', Value: 'nov' },
      { Name: 'tier', Value: 'gold' },
    ]);
    expect(out.rejectedTags).toEqual(['bad tag=x']);
    expect(out.raw.toString()).not.toMatch(/X-SES-/i);
  });

  it('adds Date and Message-ID when the client left them out', () => {
    const out = prepareMessage(Buffer.from('From: a@example.com\nSubject: s\n\nbody\n'), opts);
    const text = out.raw.toString();
    expect(
      text.startsWith(
        'Date: Sun, 22 Nov 2026 10:00:00 +0000\nMessage-ID: <Q1@relay.test>\nFrom: a@example.com\n',
      ),
    ).toBe(true);
    expect(out.messageId).toBe('Q1@relay.test');
  });

  it('replaces an empty Date or Message-ID instead of adding a second one, and removes Resent-Bcc', () => {
    const input = 'From: a@example.com\r\nDate:  \r\nMessage-ID: <>\r\nResent-Bcc: x@example.org\r\n\r\nbody';
    const text = prepareMessage(Buffer.from(input), opts).raw.toString();
    expect(text).toBe(
      'Date: Sun, 22 Nov 2026 10:00:00 +0000\r\nMessage-ID: <Q1@relay.test>\r\nFrom: a@example.com\r\n\r\nbody',
    );
  });

  it('ends the header section at the first blank line, whichever line ending it uses', () => {
    // LF headers, and a CRLF blank line further down in the body.
    const lf = prepareMessage(
      Buffer.from('From: a@example.com\nBcc: x@example.net\n\nbody\r\n\r\nBcc: y\r\n'),
      opts,
    );
    expect(lf.raw.toString()).not.toContain('x@example.net');
    expect(lf.raw.toString()).toContain('\n\nbody\r\n\r\nBcc: y\r\n');
    // CRLF headers, and a bare-LF blank line further down in the body.
    const crlf = prepareMessage(
      Buffer.from('From: a@example.com\r\nBcc: x@example.net\r\n\r\nbody\n\nBcc: y\n'),
      opts,
    );
    expect(crlf.raw.toString()).not.toContain('x@example.net');
    expect(crlf.raw.toString()).toContain('\r\n\r\nbody\n\nBcc: y\n');
  });

  it('keeps every byte of a message that has no header/body separator', () => {
    const out = prepareMessage(Buffer.from('just a line'), opts);
    expect(out.raw.toString()).toContain('just a line');
  });

  it('ends the header section at an empty line whose ending differs from the header lines', () => {
    // Bare-LF header lines, then a CRLF blank line: the first paragraph is body, not headers.
    const body =
      'Dear customer,\r\nBcc: our records show\r\nDate: 2024-01-01 invoice date\r\n\r\nregards\r\n';
    const out = prepareMessage(
      Buffer.from(`From: a@example.com\nTo: b@example.net\nBcc: hidden@example.org\n\r\n${body}`),
      opts,
    );
    expect(out.raw.toString()).toBe(
      `Date: Sun, 22 Nov 2026 10:00:00 +0000\nMessage-ID: <Q1@relay.test>\nFrom: a@example.com\nTo: b@example.net\n\r\n${body}`,
    );
  });

  it('adds the blank line to a header-only message, and ends its headers at the first other line', () => {
    expect(
      prepareMessage(Buffer.from('From: a@example.com\r\nSubject: test page\r\n'), opts).raw.toString(),
    ).toBe(
      'Date: Sun, 22 Nov 2026 10:00:00 +0000\r\nMessage-ID: <Q1@relay.test>\r\nFrom: a@example.com\r\nSubject: test page\r\n\r\n',
    );
    // Without a final line ending, and with bare LF.
    expect(prepareMessage(Buffer.from('From: a@example.com\nSubject: x'), opts).raw.toString()).toMatch(
      /\nFrom: a@example.com\nSubject: x\n\n$/,
    );
    // Headers run straight into text: the text is the body, the Bcc in it stays there.
    const out = prepareMessage(
      Buffer.from('From: a@example.com\r\nSubject: s\r\n folded\r\nCard number 4111: x\r\nBcc: y\r\n'),
      opts,
    );
    expect(out.raw.toString()).toMatch(/\r\nSubject: s\r\n folded\r\n\r\nCard number 4111: x\r\nBcc: y\r\n$/);
  });

  it('drops exact repeats of single-occurrence fields and reports differing ones', () => {
    const same = prepareMessage(
      Buffer.from(
        'From: a@example.com\r\nMIME-Version: 1.0\r\nSubject: a\r\n  b\r\nMIME-Version: 1.0\r\nSubject: a b\r\nReceived: x\r\nReceived: y\r\n\r\nbody',
      ),
      opts,
    );
    expect(same.duplicateField).toBeUndefined();
    const text = same.raw.toString();
    expect(text.match(/^MIME-Version:/gm)).toHaveLength(1);
    expect(text.match(/^Subject:/gm)).toHaveLength(1);
    expect(text.match(/^Received:/gm)).toHaveLength(2);

    const differing = prepareMessage(
      Buffer.from('From: a@example.com\r\nsubject: one\r\nSubject: two\r\n\r\nx'),
      opts,
    );
    expect(differing.duplicateField).toBe('subject');
    // Fields inside MIME parts are not the message's own.
    const parts = prepareMessage(
      Buffer.from(
        'From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n',
      ),
      opts,
    );
    expect(parts.duplicateField).toBeUndefined();
  });

  it("numbers the prepared message's lines as the client sent them", () => {
    const input =
      'From: a@example.com\r\nBcc: x@example.org,\r\n y@example.org\r\nSubject: s\r\n\r\nline 6\r\nline 7\r\n';
    const out = prepareMessage(Buffer.from(input), opts);
    const lines = out.raw.toString().split('\r\n');
    expect(lines.slice(0, 4)).toEqual([
      'Date: Sun, 22 Nov 2026 10:00:00 +0000',
      'Message-ID: <Q1@relay.test>',
      'From: a@example.com',
      'Subject: s',
    ]);
    expect([1, 2, 3, 4, 5, 6, 7].map((line) => out.clientLine(line))).toEqual([
      undefined,
      undefined,
      1,
      4,
      5,
      6,
      7,
    ]);
    // A header-only message: the blank line is the gateway's.
    const bare = prepareMessage(
      Buffer.from('From: a@example.com\r\nDate: d\r\nMessage-ID: <m@x>\r\nbody 4\r\n'),
      opts,
    );
    expect([3, 4, 5].map((line) => bare.clientLine(line))).toEqual([3, undefined, 4]);
  });
});

describe('a large header section', () => {
  it('is prepared in linear time (40,000 folded addresses, about 1 MiB)', () => {
    const members = Array.from({ length: 40_000 }, (_, i) => `member${i}@list.example`);
    const input = Buffer.from(
      `From: a@example.com\r\nTo: ${members.join(',\r\n ')}\r\nSubject: s\r\n\r\nx\r\n`,
    );
    const started = performance.now();
    const out = prepareMessage(input, opts);
    // Quadratic folding took 17 s here; linear takes well under 100 ms.
    expect(performance.now() - started).toBeLessThan(2000);
    expect(out.raw.length).toBe(
      input.length + 'Date: Sun, 22 Nov 2026 10:00:00 +0000\r\nMessage-ID: <Q1@relay.test>\r\n'.length,
    );
  });
});

describe('X-SES-MESSAGE-TAGS', () => {
  it('keeps valid pairs and reports the rest', () => {
    expect(parseTagHeader('a=1,b=two , c, =x, d=ü')).toEqual({
      tags: [
        { Name: 'a', Value: '1' },
        { Name: 'b', Value: 'two' },
      ],
      rejected: ['c', '=x', 'd=ü'],
    });
  });
});
