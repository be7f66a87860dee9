// A Bcc or X-SES-* field written after a bare CR is invisible to the gateway, which ends lines at
// LF, but not to a parser that also ends them at a lone CR: such a message is refused at DATA,
// never sent with a Bcc list or another user's X-SES-SOURCE-ARN in it.
import fs from 'node:fs';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { SmtpClient, type SmtpReply } from '../helpers/smtp-client.js';
import { removeTempDirs, tempDir } from '../helpers/tls-cert.js';
import { waitFor } from '../helpers/wait.js';

const PASSWORD = 'hidden-fields-password';
const PARTNER_ARN = 'arn:aws:ses:us-east-1:210987654321:identity/partner.example';

describe('header fields hidden after a bare CR', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    const file = path.join(tempDir('hidden-fields'), 'users.json');
    fs.writeFileSync(
      file,
      JSON.stringify({ users: [{ username: 'crm', password: bcrypt.hashSync(PASSWORD, 4) }] }),
    );
    gw = await startGateway({ SMTP_USERS_FILE: file, SMTP_ALLOW_INSECURE_AUTH: 'true' });
  });
  afterAll(async () => {
    await gw.stop();
    removeTempDirs();
  });

  async function send(message: string, login?: string): Promise<SmtpReply> {
    const client = await SmtpClient.connect(gw.smtpPort);
    try {
      await client.hello();
      if (login) expect((await client.auth(login, PASSWORD)).code).toBe(235);
      expect((await client.command('MAIL FROM:<crm@example.com>')).code).toBe(250);
      expect((await client.command('RCPT TO:<user@example.net>')).code).toBe(250);
      return await client.data(message);
    } finally {
      client.close();
    }
  }

  it("refuses an authenticated user's X-SES-SOURCE-ARN after a bare CR, and a hidden Bcc", async () => {
    const arn = await send(
      `From: crm@example.com\r\nSubject: invoice\rX-SES-SOURCE-ARN: ${PARTNER_ARN}\r\n\r\nHello\r\n`,
      'crm',
    );
    expect(`${arn.code} ${arn.text}`).toBe(
      '550 5.6.0 Header field X-SES-SOURCE-ARN follows a CR not followed by LF; SES may read it as a field of its own',
    );
    const bcc = await send(
      'From: crm@example.com\r\nTo: user@example.net\rBcc: boss@secret.example\r\n\r\nHi\r\n',
    );
    expect(bcc.code).toBe(550);
    await waitFor(() => gw.logs.filter((line) => line.msg === 'smtp.refused.content').length === 2);
    // A bare CR elsewhere in a value is no such field: the message goes out.
    expect((await send('From: crm@example.com\r\nSubject: one\rtwo\r\n\r\nHi\r\n')).code).toBe(250);
    await waitFor(() => gw.ses.sends.length === 1, { what: 'the one message' });
    expect(gw.ses.sends[0]!.raw.toString('latin1')).not.toMatch(/X-SES-SOURCE-ARN|boss@/);
  });
});
