// SMTP_ALLOWED_SENDERS entries written as the domain reads (`@bücher.de`) match MAIL FROM in either
// spelling: both sides are compared with the domain in punycode.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { SmtpClient } from '../helpers/smtp-client.js';

describe('IDN entries in SMTP_ALLOWED_SENDERS', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ ROLES: 'smtp', SMTP_ALLOWED_SENDERS: '@bücher.de,chef@münchen.example' });
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('still refuses a sender of another domain', async () => {
    const client = await SmtpClient.connect(gw.smtpPort);
    try {
      await client.hello();
      expect((await client.command('MAIL FROM:<app@buecher.de>')).code).toBe(553);
    } finally {
      client.close();
    }
  });

  for (const from of ['app@bücher.de', 'app@xn--bcher-kva.de', 'chef@münchen.example']) {
    it(`takes MAIL FROM:<${from}> when the list names its domain or address in Unicode`, async () => {
      const client = await SmtpClient.connect(gw.smtpPort);
      try {
        await client.hello();
        const reply = await client.command(`MAIL FROM:<${from}>`);
        expect(reply.code, reply.text).toBe(250);
      } finally {
        client.close();
      }
    });
  }
});
