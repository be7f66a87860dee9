// X-SES-CONFIGURATION-SET and X-SES-MESSAGE-TAGS against the operator's users file: the user's
// configuration set and the gateway's smtp-user tag cannot be moved by a header; otherwise the
// headers are honoured. Tag names are sent once, and no more tags than SES takes.
import fs from 'node:fs';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_EMAIL_TAGS } from '../../src/mail/tags.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { simpleMessage, SmtpClient } from '../helpers/smtp-client.js';
import { removeTempDirs, tempDir } from '../helpers/tls-cert.js';
import { waitFor } from '../helpers/wait.js';

const PASSWORD = 'header-policy-password';

describe('X-SES headers and the users file', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    const hash = bcrypt.hashSync(PASSWORD, 4);
    const file = path.join(tempDir('header-policy'), 'users.yaml');
    fs.writeFileSync(
      file,
      [
        'users:',
        '  - username: crm',
        `    password: "${hash}"`,
        '    configurationSet: crm-set',
        '    tags: { app: crm }',
        '  - username: free',
        `    password: "${hash}"`,
      ].join('\n'),
    );
    gw = await startGateway({
      SMTP_USERS_FILE: file,
      SMTP_ALLOW_INSECURE_AUTH: 'true',
      SES_CONFIGURATION_SET: 'default-set',
    });
  });
  afterAll(async () => {
    await gw.stop();
    removeTempDirs();
  });
  beforeEach(() => {
    gw.ses.reset();
  });

  async function sendAs(user: string | undefined, extra: string[]): Promise<void> {
    const client = await SmtpClient.connect(gw.smtpPort);
    await client.hello();
    if (user) expect((await client.auth(user, PASSWORD)).code).toBe(235);
    expect((await client.command('MAIL FROM:<app@example.com>')).code).toBe(250);
    expect((await client.command('RCPT TO:<user@example.net>')).code).toBe(250);
    expect((await client.data(simpleMessage({ extra }))).code).toBe(250);
    client.close();
  }

  it("keeps the user's configuration set and smtp-user tag whatever the headers say, and logs the override", async () => {
    await sendAs('crm', [
      'X-SES-CONFIGURATION-SET: no-events',
      'X-SES-MESSAGE-TAGS: smtp-user=someone-else, app=erp, app=billing, campaign=nov',
    ]);
    const sent = await waitFor(() => gw.ses.sends[0]);
    expect(sent.configurationSet).toBe('crm-set');
    expect(sent.tags).toEqual([
      { Name: 'smtp-user', Value: 'crm' },
      { Name: 'app', Value: 'billing' },
      { Name: 'campaign', Value: 'nov' },
    ]);
    const overridden = gw.logs.find((line) => line.msg === 'smtp.configuration_set_overridden');
    expect(overridden).toMatchObject({
      level: 'info',
      user: 'crm',
      header: 'no-events',
      configurationSet: 'crm-set',
    });
  });

  it('honours the header for a user without a configuration set, and for a client without AUTH', async () => {
    await sendAs('free', ['X-SES-CONFIGURATION-SET: marketing']);
    expect((await waitFor(() => gw.ses.sends[0])).configurationSet).toBe('marketing');
    await sendAs(undefined, ['X-SES-CONFIGURATION-SET: newsletters']);
    expect((await waitFor(() => gw.ses.sends[1])).configurationSet).toBe('newsletters');
  });

  it(`sends at most ${MAX_EMAIL_TAGS} tags, the gateway's own among them, and warns of the rest`, async () => {
    const many = Array.from({ length: 60 }, (_, i) => `t${i}=v${i}`);
    await sendAs('free', [`X-SES-MESSAGE-TAGS: ${many.join(',\r\n ')}`]);
    const sent = await waitFor(() => gw.ses.sends[0]);
    expect(sent.tags).toHaveLength(MAX_EMAIL_TAGS);
    expect(sent.tags[0]).toEqual({ Name: 'smtp-user', Value: 'free' });
    expect(sent.tags.at(-1)).toEqual({ Name: 't48', Value: 'v48' });
    const warning = gw.logs.find((line) => line.msg === 'smtp.tags_over_limit');
    expect(warning).toMatchObject({ level: 'warn', limit: MAX_EMAIL_TAGS });
    expect(warning?.dropped).toHaveLength(11);
  });
});
