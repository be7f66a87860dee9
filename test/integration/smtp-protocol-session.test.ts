// Session-level SMTP rules a client runs into outside the message itself: AUTH inside a mail
// transaction (RFC 4954 §4), DATA that cannot start and what a client sent behind it, and how
// client-caused connection failures are logged.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGateway, type LogLine, type TestGateway } from '../helpers/gateway.js';
import { simpleMessage, SmtpClient } from '../helpers/smtp-client.js';
import { generateCertificate, removeTempDirs, tempDir } from '../helpers/tls-cert.js';
import { waitFor } from '../helpers/wait.js';

const PASSWORD = 'protocol-session-password';
// Cost 4 keeps the tests fast; production hashes come from `ses-relay user hash` (cost 12).
const HASH = bcrypt.hashSync(PASSWORD, 4);

/** Writes a whole session in one piece, as a script that never reads replies does; returns them. */
function blindSession(port: number, session: string): Promise<string[]> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    socket.on('error', () => undefined);
    socket.once('data', () => socket.write(session));
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('close', () => resolve(text.split('\r\n').filter((line) => line !== '')));
  });
}

/** Opens a TCP connection and waits until the server has closed it (or `act` has). */
async function rawConnection(port: number, act: (socket: net.Socket) => void): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('connect', resolve));
  const closed = new Promise((resolve) => socket.once('close', resolve));
  act(socket);
  await closed;
}

describe('SMTP session rules', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    const cert = await generateCertificate();
    const usersFile = path.join(tempDir('users'), 'users.json');
    fs.writeFileSync(
      usersFile,
      JSON.stringify({
        users: [
          {
            username: 'crm',
            password: HASH,
            allowedSenders: ['crm@example.com'],
            configurationSet: 'crm-set',
          },
        ],
      }),
    );
    // Loopback may relay without AUTH, and may authenticate in clear: both paths are open here.
    gw = await startGateway({
      SMTP_ALLOWED_NETWORKS: '127.0.0.0/8',
      SMTP_USERS_FILE: usersFile,
      SMTP_ALLOW_INSECURE_AUTH: 'true',
      SMTP_TLS_CERT: cert.certPath,
      SMTP_TLS_KEY: cert.keyPath,
      SMTP_TLS_PORT: '0',
    });
  });
  beforeEach(() => {
    gw.ses.reset();
  });
  afterAll(async () => {
    await gw.stop();
    removeTempDirs();
  });

  describe('AUTH inside a mail transaction', () => {
    it("answers 503 5.5.1 and leaves the transaction under the session's identity", async () => {
      const client = await SmtpClient.connect(gw.smtpPort);
      await client.hello();
      // crm may not use this sender; without a user, the network lets it through.
      expect((await client.command('MAIL FROM:<ceo@example.org>')).code).toBe(250);
      const auth = await client.auth('crm', PASSWORD);
      expect([auth.code, auth.text]).toEqual([503, '5.5.1 AUTH not permitted during a mail transaction']);
      expect((await client.command('RCPT TO:<user@example.net>')).code).toBe(250);
      expect((await client.data(simpleMessage({ from: 'App <ceo@example.org>' }))).code).toBe(250);
      const sent = await waitFor(() => gw.ses.sends[0], { what: 'the message at SES' });
      // Sent as the unauthenticated session it was, not under crm's configuration set.
      expect(sent.configurationSet).toBeUndefined();
      client.close();
    });

    it('takes AUTH again once RSET has ended the transaction, and then checks the sender against the user', async () => {
      const client = await SmtpClient.connect(gw.smtpPort);
      await client.hello();
      expect((await client.command('MAIL FROM:<ceo@example.org>')).code).toBe(250);
      expect((await client.command('RSET')).code).toBe(250);
      expect((await client.auth('crm', PASSWORD)).code).toBe(235);
      expect((await client.command('MAIL FROM:<ceo@example.org>')).code).toBe(553);
      expect((await client.command('MAIL FROM:<crm@example.com>')).code).toBe(250);
      client.close();
    });
  });

  describe('DATA that cannot start', () => {
    it('answers 554 5.5.1 when every RCPT was refused, and the session goes on', async () => {
      const client = await SmtpClient.connect(gw.smtpPort);
      await client.hello();
      expect((await client.command('MAIL FROM:<app@example.com>')).code).toBe(250);
      expect((await client.command('RCPT TO:<not an address>')).code).toBe(501);
      expect((await client.command('RCPT TO:<a;b@example.net>')).code).toBe(553);
      const data = await client.command('DATA');
      expect([data.code, data.text]).toEqual([554, '5.5.1 No valid recipients']);
      // The transaction is still open: a client that waited for the reply may add a recipient.
      expect((await client.command('RCPT TO:<user@example.net>')).code).toBe(250);
      expect((await client.data(simpleMessage())).code).toBe(250);
      // Outside a transaction, DATA keeps smtp-server's 503.
      expect((await client.command('DATA')).text).toBe('Error: need RCPT command');
      client.close();
    });

    it('never runs message lines as commands when a client sent its message before the reply to DATA', async () => {
      const smuggled = [
        'MAIL FROM:<app@example.com>',
        'RCPT TO:<victim@example.org>',
        'DATA',
        'From: App <app@example.com>',
        'Subject: smuggled',
        '',
        'Nobody submitted this.',
        '.',
      ].join('\r\n');
      const message = `From: App <app@example.com>\r\nSubject: contact form\r\n\r\n${smuggled}\r\n.\r\n`;
      const accepted = () => gw.logs.filter((line) => line.msg === 'smtp.accepted').length;
      const before = accepted();
      const replies = await blindSession(
        gw.smtpPort,
        `EHLO blind.test\r\nMAIL FROM:<app@example.com>\r\nRCPT TO:<a;b@example.net>\r\nDATA\r\n${message}QUIT\r\n`,
      );
      expect(replies.slice(-3)).toEqual([
        '553 5.1.3 <a;b@example.net>: not a valid mailbox address',
        '554 5.5.1 No valid recipients',
        '554 5.5.0 Input sent before the reply to DATA is message content, not commands; closing',
      ]);
      expect(accepted()).toBe(before);
      expect(gw.logs.find((line) => line.msg.startsWith('smtp.refused.pipelining'))).toMatchObject({
        level: 'warn',
        client: '127.0.0.1',
      });
      // Without EHLO, DATA is refused earlier; what follows it is not run either.
      const noHello = await blindSession(
        gw.smtpPort,
        `MAIL FROM:<app@example.com>\r\nDATA\r\nEHLO blind.test\r\n${smuggled}\r\n`,
      );
      expect(noHello.at(-1)).toMatch(/^554 5\.5\.0 /);
      expect(accepted()).toBe(before);
    });

    it('still takes a message sent without waiting for 354 when DATA is accepted', async () => {
      const replies = await blindSession(
        gw.smtpPort,
        `EHLO blind.test\r\nMAIL FROM:<app@example.com>\r\nRCPT TO:<user@example.net>\r\nDATA\r\n${simpleMessage({ subject: 'blind' })}.\r\nQUIT\r\n`,
      );
      expect(replies.slice(-3)).toEqual([
        '354 End data with <CR><LF>.<CR><LF>',
        expect.stringMatching(/^250 2\.0\.0 Ok: queued as /),
        '221 Bye',
      ]);
    });
  });

  describe('connection failures caused by a client', () => {
    const smtpLines = () => gw.logs.filter((line) => line.msg.startsWith('smtp.'));
    const errorLines = () => smtpLines().filter((line) => line.level === 'error');
    const linesNamed = (msg: string) => smtpLines().filter((line: LogLine) => line.msg === msg);
    beforeEach(() => {
      gw.logs.length = 0;
    });

    it('logs a TCP health check on SMTP_TLS_PORT (connect, then close or reset) at debug, not as an error', async () => {
      const smtps = gw.addresses.smtps!.port;
      await rawConnection(smtps, (socket) => socket.end());
      await rawConnection(smtps, (socket) => socket.resetAndDestroy());
      await waitFor(() => linesNamed('smtp.tls_failed').length === 2, { what: 'both connections logged' });
      expect(errorLines()).toEqual([]);
      const [closed, reset] = [
        linesNamed('smtp.tls_failed').find((line) => line.code === 'SocketError'),
        linesNamed('smtp.tls_failed').find((line) => line.code === 'ECONNRESET'),
      ];
      expect(closed).toMatchObject({
        level: 'debug',
        client: '127.0.0.1',
        err: 'Socket closed while initiating TLS',
      });
      expect(reset).toMatchObject({ level: 'debug', client: '127.0.0.1' });
    });

    it('logs plain text sent after STARTTLS once, at info, with the client', async () => {
      await rawConnection(gw.smtpPort, (socket) => {
        socket.once('data', () => {
          socket.write('EHLO client.test\r\nSTARTTLS\r\n');
          socket.on('data', (chunk: Buffer) => {
            if (chunk.toString('latin1').includes('220 Ready to start TLS')) socket.write('EHLO again\r\n');
          });
        });
      });
      await waitFor(() => linesNamed('smtp.tls_failed').length, { what: 'the failed handshake' });
      expect(errorLines()).toEqual([]);
      expect(linesNamed('smtp.tls_failed')).toEqual([
        expect.objectContaining({ level: 'info', client: '127.0.0.1', err: expect.stringMatching(/SSL/) }),
      ]);
    });

    it('logs a client that resets its connection inside a transaction at info, with the client', async () => {
      const client = await SmtpClient.connect(gw.smtpPort);
      await client.hello();
      expect((await client.command('MAIL FROM:<app@example.com>')).code).toBe(250);
      client.socket.resetAndDestroy();
      const line = await waitFor(() => linesNamed('smtp.client_error')[0], { what: 'the reset logged' });
      expect(line).toMatchObject({ level: 'info', client: '127.0.0.1', code: 'ECONNRESET' });
      expect(errorLines()).toEqual([]);
    });
  });
});
