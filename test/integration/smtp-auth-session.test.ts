import fs from 'node:fs';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { simpleMessage, SmtpClient } from '../helpers/smtp-client.js';
import { generateCertificate, removeTempDirs, tempDir } from '../helpers/tls-cert.js';
import { waitFor } from '../helpers/wait.js';

const PASSWORD = 'session-auth-password';
// Cost 4 keeps the tests fast; production hashes come from `ses-relay user hash` (cost 12).
const HASH = bcrypt.hashSync(PASSWORD, 4);

interface UserEntry {
  username: string;
  allowedSenders?: string[];
  configurationSet?: string;
  tags?: Record<string, string>;
  dailyCap?: number;
}

const usersJson = (users: UserEntry[]) =>
  JSON.stringify({ users: users.map((user) => ({ ...user, password: HASH })) });

/** An AUTH PLAIN command with an explicit authorization identity. */
const authPlain = (authzid: string, authcid: string) =>
  `AUTH PLAIN ${Buffer.from(`${authzid}\0${authcid}\0${PASSWORD}`).toString('base64')}`;

describe('SMTP AUTH within a session', () => {
  let gw: TestGateway;
  let usersFile: string;
  beforeAll(async () => {
    const cert = await generateCertificate();
    usersFile = path.join(tempDir('users'), 'users.json');
    fs.writeFileSync(usersFile, usersJson([{ username: 'crm' }]));
    // Loopback counts as "outside": every client here must authenticate.
    gw = await startGateway({
      SMTP_ALLOWED_NETWORKS: '10.0.0.0/8',
      SMTP_USERS_FILE: usersFile,
      SMTP_TLS_CERT: cert.certPath,
      SMTP_TLS_KEY: cert.keyPath,
    });
  });
  beforeEach(() => gw.ses.reset());
  afterAll(async () => {
    await gw.stop();
    removeTempDirs();
  });

  /** Replaces the users file and reloads it, as SIGHUP does. */
  async function setUsers(users: UserEntry[]): Promise<void> {
    fs.writeFileSync(usersFile, usersJson(users));
    await gw.app.reload();
  }

  async function secureSession(): Promise<SmtpClient> {
    const client = await SmtpClient.connect(gw.smtpPort);
    await client.hello();
    await client.startTls();
    await client.command('EHLO client.test');
    return client;
  }

  async function send(client: SmtpClient, from: string, to: string[]) {
    expect((await client.command(`MAIL FROM:<${from}>`)).code).toBe(250);
    for (const rcpt of to) expect((await client.command(`RCPT TO:<${rcpt}>`)).code).toBe(250);
    expect((await client.data(simpleMessage({ from }))).code).toBe(250);
  }

  it('answers AUTH before STARTTLS with 530 5.7.0, without asking for credentials, and offers it after', async () => {
    const client = await SmtpClient.connect(gw.smtpPort);
    const ehlo = await client.hello();
    expect(ehlo.lines.some((line) => line.startsWith('AUTH'))).toBe(false);
    const must = '530 5.7.0 Must issue a STARTTLS command first';
    const login = await client.command('AUTH LOGIN');
    expect(`${login.code} ${login.text}`).toBe(must);
    const plain = await client.auth('crm', PASSWORD);
    expect(`${plain.code} ${plain.text}`).toBe(must);
    await client.startTls();
    expect((await client.command('EHLO client.test')).lines).toContain('AUTH PLAIN LOGIN');
    expect((await client.auth('crm', PASSWORD)).code).toBe(235);
    client.close();
  });

  it('refuses AUTH PLAIN whose authorization identity is another user (535 5.7.8)', async () => {
    const client = await secureSession();
    const other = await client.command(authPlain('admin', 'crm'));
    expect(`${other.code} ${other.text}`).toBe(
      '535 5.7.8 Authorization identity must be empty or the username',
    );
    // The same identity twice, or only the authzid (as some clients send it), is the user itself.
    expect((await client.command(authPlain('crm', 'crm'))).code).toBe(235);
    client.close();
    const authzidOnly = await secureSession();
    expect((await authzidOnly.command(authPlain('crm', ''))).code).toBe(235);
    authzidOnly.close();
  });

  it('refuses MAIL with 530 5.7.0 once the session user is removed from the users file', async () => {
    await setUsers([{ username: 'crm' }, { username: 'printer' }]);
    const client = await secureSession();
    expect((await client.auth('crm', PASSWORD)).code).toBe(235);
    await send(client, 'crm@example.com', ['user@example.net']);

    await setUsers([{ username: 'printer' }]);
    const mail = await client.command('MAIL FROM:<crm@example.com>');
    expect(`${mail.code} ${mail.text}`).toBe(
      '530 5.7.0 Authentication no longer valid (user removed), authenticate again',
    );
    // The session is unauthenticated again: AUTH is allowed, and checks the current file.
    expect((await client.auth('crm', PASSWORD)).code).toBe(535);
    expect((await client.auth('printer', PASSWORD)).code).toBe(235);
    await send(client, 'printer@example.com', ['user@example.net']);
    client.close();
    await waitFor(() => gw.ses.sends.length === 2);
    expect(gw.ses.sends.map((s) => s.from).sort()).toEqual(['crm@example.com', 'printer@example.com']);
  });

  it("applies the user's current policy to each new transaction of an authenticated session", async () => {
    await setUsers([
      {
        username: 'crm',
        allowedSenders: ['old@example.com'],
        configurationSet: 'set-one',
        tags: { team: 'one' },
      },
    ]);
    const client = await secureSession();
    expect((await client.auth('crm', PASSWORD)).code).toBe(235);
    await send(client, 'old@example.com', ['user@example.net']);

    await setUsers([
      {
        username: 'crm',
        allowedSenders: ['new@example.com'],
        configurationSet: 'set-two',
        tags: { team: 'two' },
        dailyCap: 1,
      },
    ]);
    expect((await client.command('MAIL FROM:<old@example.com>')).code).toBe(553);
    expect((await client.command('MAIL FROM:<new@example.com>')).code).toBe(250);
    expect((await client.command('RCPT TO:<a@example.net>')).code).toBe(250);
    expect((await client.command('RCPT TO:<b@example.net>')).code).toBe(452);
    expect((await client.data(simpleMessage({ from: 'new@example.com' }))).code).toBe(250);
    client.close();
    await waitFor(() => gw.ses.sends.length === 2);
    const second = gw.ses.sends.find((s) => s.from === 'new@example.com')!;
    expect(second.configurationSet).toBe('set-two');
    expect(second.tags).toContainEqual({ Name: 'team', Value: 'two' });
  });
});
