// SES takes the X-SES-*-ARN sending-authorization fields from a raw message when no identity ARN
// parameter is sent. An authenticated user must not pick an identity the operator bound to another
// user by writing them, so they are removed from such users' mail; a client trusted by its network
// alone keeps them, as SES SMTP honoured them.
import fs from 'node:fs';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { simpleMessage, SmtpClient } from '../helpers/smtp-client.js';
import { removeTempDirs, tempDir } from '../helpers/tls-cert.js';
import { waitFor } from '../helpers/wait.js';

const PASSWORD = 'identity-header-password';
const HASH = bcrypt.hashSync(PASSWORD, 4);
/** Another account's identity that authorizes this account; bound to erp only. */
const PARTNER_ARN = 'arn:aws:ses:us-east-1:210987654321:identity/partner.example';
const ARN_FIELDS = [
  `X-SES-FROM-ARN: ${PARTNER_ARN}`,
  `X-SES-SOURCE-ARN: ${PARTNER_ARN}`,
  `x-ses-return-path-arn: ${PARTNER_ARN}`,
];

describe('X-SES-*-ARN sending-authorization fields', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    const file = path.join(tempDir('identity-headers'), 'users.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        users: [
          { username: 'crm', password: HASH },
          { username: 'erp', password: HASH, fromEmailAddressIdentityArn: PARTNER_ARN },
        ],
      }),
    );
    gw = await startGateway({ SMTP_USERS_FILE: file, SMTP_ALLOW_INSECURE_AUTH: 'true' });
  });
  afterAll(async () => {
    await gw.stop();
    removeTempDirs();
  });

  async function send(to: string, login?: string): Promise<string> {
    const client = await SmtpClient.connect(gw.smtpPort);
    try {
      await client.hello();
      if (login) expect((await client.auth(login, PASSWORD)).code).toBe(235);
      expect((await client.command('MAIL FROM:<crm@example.com>')).code).toBe(250);
      expect((await client.command(`RCPT TO:<${to}>`)).code).toBe(250);
      const reply = await client.data(
        simpleMessage({ from: 'Partner <billing@partner.example>', extra: ARN_FIELDS }),
      );
      expect(reply.code).toBe(250);
    } finally {
      client.close();
    }
    const sent = await waitFor(() => gw.ses.sends.find((s) => s.to.includes(to)), { what: 'the send' });
    return sent.raw.toString('latin1');
  }

  it("removes them from an authenticated user's message and logs which", async () => {
    const raw = await send('arn-victim@example.net', 'crm');
    expect(raw).not.toMatch(/^X-SES-(FROM|SOURCE|RETURN-PATH)-ARN:/im);
    const line = await waitFor(() => gw.logs.find((l) => l.msg === 'smtp.identity_headers_dropped'));
    expect(line).toMatchObject({
      level: 'warn',
      user: 'crm',
      dropped: ['X-SES-FROM-ARN', 'X-SES-SOURCE-ARN', 'x-ses-return-path-arn'],
    });
  });

  it('keeps them for a client trusted by its network', async () => {
    const raw = await send('network-client@example.net');
    for (const field of ARN_FIELDS) expect(raw).toContain(`${field}\r\n`);
  });
});
