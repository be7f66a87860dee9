import { describe, expect, it } from 'vitest';
import { prepareMessage } from '../../src/mail/prepare.js';

const opts = { queueId: 'Q1', hostname: 'relay.test', now: new Date('2026-11-22T10:00:00Z') };
const messageIdOf = (field: string) =>
  prepareMessage(Buffer.from(`From: a@example.com\r\n${field}\r\n\r\nbody\r\n`), opts).messageId;

describe("the client's Message-ID as recorded for tracing", () => {
  it('is the msg-id inside the angle brackets, whatever comments or spaces surround it', () => {
    expect(messageIdOf('Message-ID: <m1@example.com> (sent by Billing)')).toBe('m1@example.com');
    expect(messageIdOf('Message-ID: (Billing)\r\n <m2@example.com>')).toBe('m2@example.com');
    expect(messageIdOf('Message-ID: < m3@example.com >')).toBe('m3@example.com');
    expect(messageIdOf('Message-ID: m4@example.com')).toBe('m4@example.com');
  });

  it('is replaced, as an empty one is, when the brackets hold nothing', () => {
    const out = prepareMessage(Buffer.from('From: a@example.com\r\nMessage-ID: <> (none)\r\n\r\nb'), opts);
    expect(out.messageId).toBe('Q1@relay.test');
    expect(out.raw.toString().match(/^Message-ID:/gim)).toHaveLength(1);
  });
});
