import { describe, expect, it } from 'vitest';
import { prepareMessage } from '../../src/mail/prepare.js';
import { receivedValue } from '../../src/mail/received.js';

const now = new Date('2026-11-22T10:00:00Z');
const base = { hostname: 'relay.test', queueId: 'Q1', now };

describe('the Received trace field', () => {
  it('names the HELO name, the client IP, the gateway, the protocol and the queue id, folded', () => {
    const value = receivedValue(
      { ...base, helo: 'crm.internal', clientIp: '192.0.2.7', protocol: 'ESMTPSA' },
      '\r\n',
    );
    expect(value).toBe(
      'from crm.internal ([192.0.2.7])\r\n\tby relay.test (ses-relay) with ESMTPSA id Q1;\r\n\tSun, 22 Nov 2026 10:00:00 +0000',
    );
  });

  it('writes IPv6 as an IPv6 literal and an IPv4-mapped address as IPv4', () => {
    const v6 = receivedValue({ ...base, helo: 'a', clientIp: '2001:db8::1', protocol: 'ESMTP' }, '\n');
    expect(v6).toContain('from a ([IPv6:2001:db8::1])');
    const mapped = receivedValue(
      { ...base, helo: 'a', clientIp: '::ffff:192.0.2.9', protocol: 'ESMTP' },
      '\n',
    );
    expect(mapped).toContain('from a ([192.0.2.9])');
  });

  it('keeps a hostile HELO name from adding text, comments or lines to the field', () => {
    const value = receivedValue(
      {
        ...base,
        helo: 'evil (by trusted.example) ;\r\nX-Injected: yes',
        clientIp: '192.0.2.7',
        protocol: 'ESMTP',
      },
      '\r\n',
    );
    const first = value.split('\r\n')[0]!;
    expect(first).toBe('from evil__by_trusted.example_____X-Injected:_yes ([192.0.2.7])');
    expect(value.split('\r\n')).toHaveLength(3);
    const long = receivedValue(
      { ...base, helo: 'x'.repeat(5000), clientIp: '192.0.2.7', protocol: 'ESMTP' },
      '\n',
    );
    expect(long.split('\n')[0]!.length).toBeLessThan(300);
    const none = receivedValue({ ...base, helo: undefined, clientIp: '192.0.2.7', protocol: 'bogus' }, '\n');
    expect(none).toMatch(/^from unknown \(\[192\.0\.2\.7\]\)\n\tby relay\.test \(ses-relay\) with ESMTP id/);
  });

  it("goes first in the prepared message, in the message's own line ending, and shifts no client line", () => {
    const input = Buffer.from('From: a@example.com\nDate: x\nMessage-ID: <m@x>\nSubject: hi\n\nbody line\n');
    const out = prepareMessage(input, {
      ...base,
      received: { helo: 'crm', clientIp: '192.0.2.7', protocol: 'ESMTP' },
    });
    const text = out.raw.toString();
    expect(
      text.startsWith('Received: from crm ([192.0.2.7])\n\tby relay.test (ses-relay) with ESMTP id Q1;\n\t'),
    ).toBe(true);
    expect(text).not.toContain('\r');
    // Prepared lines 1-3 are the gateway's; line 4 is the client's line 1; the body follows.
    expect(out.clientLine(1)).toBeUndefined();
    expect(out.clientLine(4)).toBe(1);
    expect(text.split('\n')[8]).toBe('body line');
    expect(out.clientLine(9)).toBe(6);
  });

  it('is left out without session details', () => {
    const out = prepareMessage(
      Buffer.from('From: a@example.com\r\nDate: x\r\nMessage-ID: <m@x>\r\n\r\nb'),
      base,
    );
    expect(out.raw.toString()).not.toMatch(/^Received:/m);
  });
});
