// A user's allowedSenders bound MAIL FROM and the message's author fields alike: recipients see the
// From field, and SES authorizes the send by it. Without the second check, a user limited to
// crm@example.com could write From: erp@example.com, the one address another user is limited to.
import fs from 'node:fs';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPOOL_THRESHOLD_BYTES } from '../../src/smtp/data-spool.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { simpleMessage, SmtpClient, type SmtpReply } from '../helpers/smtp-client.js';
import { removeTempDirs, tempDir } from '../helpers/tls-cert.js';
import { waitFor } from '../helpers/wait.js';

const PASSWORD = 'author-check-password';
const HASH = bcrypt.hashSync(PASSWORD, 4);

describe("a user's allowedSenders and the From and Sender fields", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    const file = path.join(tempDir('authors'), 'users.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        users: [
          { username: 'crm', password: HASH, allowedSenders: ['crm@example.com', '@billing.example.com'] },
          { username: 'erp', password: HASH },
        ],
      }),
    );
    gw = await startGateway({ SMTP_USERS_FILE: file, SMTP_ALLOW_INSECURE_AUTH: 'true' });
  });
  afterAll(async () => {
    await gw.stop();
    removeTempDirs();
  });

  async function send(user: string, message: string, from = 'crm@example.com'): Promise<SmtpReply> {
    const client = await SmtpClient.connect(gw.smtpPort);
    try {
      await client.hello();
      expect((await client.auth(user, PASSWORD)).code).toBe(235);
      expect((await client.command(`MAIL FROM:<${from}>`)).code).toBe(250);
      expect((await client.command('RCPT TO:<user@example.net>')).code).toBe(250);
      return await client.data(message);
    } finally {
      client.close();
    }
  }

  it("refuses a From naming another user's address with 550 5.7.1 and logs it", async () => {
    const reply = await send('crm', simpleMessage({ from: 'ERP Billing <erp@example.com>' }));
    expect(`${reply.code} ${reply.text}`).toBe(
      '550 5.7.1 <erp@example.com>: From or Sender address not allowed for this user',
    );
    expect(gw.logs.find((l) => l.msg === 'smtp.refused.author')).toMatchObject({
      author: 'erp@example.com',
      user: 'crm',
    });
  });

  it('takes the listed addresses and domains in any case, with display names, comments and groups', async () => {
    for (const from of [
      '"Sales, CRM" <CRM@Example.COM>',
      'crm@example.com (CRM robot)',
      'Invoices: a@billing.example.com, b@Billing.Example.com;',
    ]) {
      const reply = await send('crm', simpleMessage({ from }));
      expect(`${from}: ${reply.code}`).toBe(`${from}: 250`);
    }
  });

  it('checks Sender and every From mailbox, and refuses a From with no address', async () => {
    const sender = await send(
      'crm',
      simpleMessage({ from: 'crm@example.com', extra: ['Sender: someone@elsewhere.example'] }),
    );
    expect(sender.text).toContain('<someone@elsewhere.example>');
    const second = await send('crm', simpleMessage({ from: 'crm@example.com, ceo@example.com' }));
    expect(second.text).toContain('<ceo@example.com>');
    const none = await send('crm', simpleMessage({ from: 'undisclosed (see crm@example.com)' }));
    expect(`${none.code} ${none.text}`).toBe(
      '550 5.7.1 The From header field names no address this user may send as',
    );
  });

  it('refuses a large, spooled message the same way and leaves no spool key behind', async () => {
    const body = `${'x'.repeat(998)}\r\n`.repeat(Math.ceil((SPOOL_THRESHOLD_BYTES * 2) / 1000));
    const reply = await send('crm', simpleMessage({ from: 'erp@example.com', body }));
    expect(reply.code).toBe(550);
    const redis = new Redis(gw.config.REDIS_URL);
    try {
      await waitFor(async () => (await redis.keys(`${gw.config.REDIS_PREFIX}:spool:*`)).length === 0, {
        what: 'the spool key to go',
      });
    } finally {
      redis.disconnect();
    }
  });

  it('leaves a user without allowedSenders free to name any author', async () => {
    const reply = await send(
      'erp',
      simpleMessage({ from: 'Anyone <anyone@example.org>' }),
      'erp@example.com',
    );
    expect(reply.code).toBe(250);
    await waitFor(() => gw.ses.sends.find((s) => s.raw.includes('anyone@example.org')));
  });
});
