// Envelope addresses without angle brackets (`MAIL FROM:app@example.com`), as printers, device
// firmware and old PHP mailers send them: smtp-server answered a permanent 501, so such a client
// dropped its mail, where Postfix (strict_rfc821_envelopes=no), Exim and Sendmail take it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bracketBareAddress } from '../../src/smtp/bare-envelope-address.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { simpleMessage, SmtpClient } from '../helpers/smtp-client.js';

describe('envelope addresses without angle brackets', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ ROLES: 'smtp' });
  });
  afterAll(async () => {
    await gw.stop();
  });

  async function session(): Promise<SmtpClient> {
    const client = await SmtpClient.connect(gw.smtpPort);
    expect((await client.hello()).code).toBe(250);
    return client;
  }

  it('takes MAIL FROM:addr and RCPT TO:addr, with ESMTP parameters and a space after the colon, and queues the message', async () => {
    const client = await session();
    try {
      const mail = await client.command('MAIL FROM:app@example.com SIZE=1000 BODY=8BITMIME');
      expect(mail.code, mail.text).toBe(250);
      const first = await client.command('RCPT TO:user@example.net');
      expect(first.code, first.text).toBe(250);
      const second = await client.command('rcpt to: other@example.net');
      expect(second.code, second.text).toBe(250);
      const queued = await client.data(simpleMessage());
      expect(queued.code, queued.text).toBe(250);
      expect(queued.text).toMatch(/queued as /);
    } finally {
      client.close();
    }
  });

  it("applies the gateway's own checks to a bare address as to a bracketed one", async () => {
    const client = await session();
    try {
      // A parameter EHLO did not offer.
      expect(await client.command('MAIL FROM:app@example.com RET=FULL')).toMatchObject({
        code: 555,
        text: '5.5.4 MAIL FROM parameter RET not supported',
      });
      expect((await client.command('MAIL FROM:app@example.com')).code).toBe(250);
      // Not an RFC 5321 address (local part over 64 characters).
      expect((await client.command(`RCPT TO:${'a'.repeat(65)}@example.net`)).code).toBe(553);
    } finally {
      client.close();
    }
  });

  it('leaves the null sender, bracketed addresses and anything not a single plausible address to smtp-server', async () => {
    const client = await session();
    try {
      expect((await client.command('MAIL FROM:<>')).code).toBe(250);
      expect((await client.command('RSET')).code).toBe(250);
      for (const line of [
        'MAIL FROM:',
        'MAIL FROM:app',
        'MAIL FROM:a b@example.com',
        'MAIL FROM:app@example.com@other.example',
        'MAIL FROM:app@example.com,other@example.com',
        'MAIL FROM:<app@example.com',
        'MAIL FROM:app@example.com>',
        'MAIL FROM:"app"@example.com <app@example.com>',
        'MAIL FROM:app@example.com =x',
      ]) {
        expect(await client.command(line), line).toMatchObject({
          code: 501,
          text: 'Error: Bad sender address syntax',
        });
      }
      expect((await client.command('MAIL FROM:<app@example.com>')).code).toBe(250);
      expect(await client.command('RCPT TO:a@example.net b@example.net')).toMatchObject({ code: 501 });
      expect((await client.command('RCPT TO:<user@example.net>')).code).toBe(250);
    } finally {
      client.close();
    }
  });

  it('rewrites only a single bare address, keeping the parameters as sent', () => {
    expect(bracketBareAddress('MAIL FROM:app@example.com')).toBe('MAIL FROM:<app@example.com>');
    expect(bracketBareAddress('mail from : app@example.com  SIZE=123 BODY=8BITMIME ')).toBe(
      'mail from :<app@example.com>  SIZE=123 BODY=8BITMIME',
    );
    expect(bracketBareAddress('RCPT TO:user@[192.0.2.1]')).toBe('RCPT TO:<user@[192.0.2.1]>');
    expect(bracketBareAddress('RCPT TO:user+tag@bücher.example')).toBe('RCPT TO:<user+tag@bücher.example>');
    for (const unchanged of [
      'MAIL FROM:<>',
      'MAIL FROM:<app@example.com>',
      'MAIL FROM: <app@example.com> SIZE=1',
      'MAIL FROM:',
      'MAIL FROM:app',
      'MAIL FROM:a b@example.com',
      'MAIL FROM:a@b@example.com',
      'MAIL FROM:@relay.example:app@example.com',
      'MAIL FROM:"a b"@example.com',
      'RCPT TO:a@example.net,b@example.net',
      'RCPT TO:a@example.net b@example.net',
      'RCPT TO:postmaster',
      'HELO app@example.com',
    ]) {
      expect(bracketBareAddress(unchanged), unchanged).toBeUndefined();
    }
  });
});
