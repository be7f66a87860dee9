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
