// A backslash pair in a quoted local part stands for its second character (RFC 5321 4.1.2), so
// `"b\ob"@example.net` is the mailbox bob@example.net: it must be refused when that is suppressed,
// and a quoted local part that needs its backslashes can be suppressed and found.
import { afterEach, describe, expect, it } from 'vitest';
import { createSuppressionStore } from '../../src/suppression/index.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { SmtpClient } from '../helpers/smtp-client.js';

describe('suppression and quoted pairs in the local part', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
  });

  it('refuses every spelling of a suppressed mailbox at RCPT', async () => {
    gw = await startGateway({ ROLES: 'smtp' });
    const store = createSuppressionStore({ redis: gw.redis, prefix: gw.config.REDIS_PREFIX });
    await store.suppress('bob@example.net', { reason: 'bounce' });
    await store.suppress('"odd\\"one"@example.net', { reason: 'complaint' });
    const client = await SmtpClient.connect(gw.smtpPort);
    try {
      await client.hello();
      expect((await client.command('MAIL FROM:<app@example.com>')).code).toBe(250);
      for (const rcpt of ['"b\\ob"@example.net', '"odd\\"one"@example.net', '"\\odd\\"one"@example.net']) {
        const reply = await client.command(`RCPT TO:<${rcpt}>`);
        expect(reply.code, `${rcpt}: ${reply.text}`).toBe(550);
      }
      expect((await client.command('RCPT TO:<ann@example.net>')).code).toBe(250);
    } finally {
      client.close();
    }
  });
});
