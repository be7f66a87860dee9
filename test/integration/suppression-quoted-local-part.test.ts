// A quoted local part of plain characters is the same mailbox as the unquoted one (RFC 5321 4.1.2):
// `"bob"@example.net` is refused at RCPT and skipped at send time when bob@example.net is suppressed.
import { afterEach, describe, expect, it } from 'vitest';
import { createSuppressionStore } from '../../src/suppression/index.js';
import { startFakeSes } from '../helpers/fake-ses.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { sendMail, simpleMessage, SmtpClient } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

describe('suppression and quoted local parts', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
  });

  it('refuses "bob"@example.net when bob@example.net is suppressed', async () => {
    gw = await startGateway({ ROLES: 'smtp' });
    const store = createSuppressionStore({ redis: gw.redis, prefix: gw.config.REDIS_PREFIX });
    await store.suppress('bob@example.net', { reason: 'bounce' });
    const client = await SmtpClient.connect(gw.smtpPort);
    try {
      await client.hello();
      expect((await client.command('MAIL FROM:<app@example.com>')).code).toBe(250);
      // Control: the plain form is refused.
      expect((await client.command('RCPT TO:<bob@example.net>')).code).toBe(550);
      // The same mailbox, quoted: must be refused too.
      const quoted = await client.command('RCPT TO:<"bob"@example.net>');
      expect(quoted.code, quoted.text).toBe(550);
    } finally {
      client.close();
    }
  });

  it('is left out by the worker when the plain form was suppressed after queueing', async () => {
    const ses = await startFakeSes();
    gw = await startGateway({ ROLES: 'smtp' }, { ses, cleanup: false });
    const prefix = gw.config.REDIS_PREFIX;
    const result = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: ['"bob"@example.net', 'ann@example.net'],
      message: simpleMessage({ to: 'bob@example.net' }),
    });
    expect(result.data?.code).toBe(250);
    const store = createSuppressionStore({ redis: gw.redis, prefix });
    await store.suppress('bob@example.net', { reason: 'complaint' });
    await gw.stop();

    gw = await startGateway({ ROLES: 'worker' }, { ses, prefix });
    try {
      const send = await waitFor(() => ses.sends[0]);
      expect(send.to).toEqual(['ann@example.net']);
    } finally {
      await ses.stop();
    }
  });
});
