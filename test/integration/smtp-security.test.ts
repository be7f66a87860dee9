import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { V2_SIGNATURE } from '../../src/proxy/index.js';
import { startFakeSes, type FakeSes } from '../helpers/fake-ses.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { simpleMessage, SmtpClient } from '../helpers/smtp-client.js';
import {
  generateCertificate,
  removeTempDirs,
  replaceFile,
  tempDir,
  type TestCertificate,
} from '../helpers/tls-cert.js';
import { waitFor } from '../helpers/wait.js';

const PASSWORD = 'correct horse battery staple';
// Cost 4 keeps the tests fast; production hashes come from `ses-relay user hash` (cost 12).
const HASH = bcrypt.hashSync(PASSWORD, 4);

function usersYaml(): string {
  return [
    'users:',
    '  - username: crm',
    `    password: "${HASH}"`,
    '    allowedSenders: ["crm@example.com", "@billing.example.com"]',
    '    configurationSet: crm-set',
    '    tags: { app: crm }',
    '    fromEmailAddressIdentityArn: "arn:aws:ses:us-east-1:123456789012:identity/example.com"',
    '  - username: printer',
    `    password: "${HASH}"`,
  ].join('\n');
}

/** A PROXY v2 header for a TCP over IPv4 connection from `source`:40000 to 127.0.0.1:`port`. */
function proxyV2(source: string, port: number): Buffer {
  const addresses = Buffer.from([...source.split('.').map(Number), 127, 0, 0, 1]);
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(40000, 0);
  ports.writeUInt16BE(port, 2);
  return Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x11, 0x00, 0x0c]), addresses, ports]);
}

describe('SMTP security: AUTH, TLS, no open relay', () => {
  let ses: FakeSes;
  let cert: TestCertificate;
  let usersFile: string;
  let gw: TestGateway;
  beforeAll(async () => {
    ses = await startFakeSes();
    cert = await generateCertificate();
    usersFile = path.join(tempDir('users'), 'users.yaml');
    fs.writeFileSync(usersFile, usersYaml());
    // Loopback counts as "outside": every client here must authenticate.
    gw = await startGateway(
      {
        SMTP_ALLOWED_NETWORKS: '10.0.0.0/8',
        SMTP_USERS_FILE: usersFile,
        SMTP_TLS_CERT: cert.certPath,
        SMTP_TLS_KEY: cert.keyPath,
        SMTP_TLS_PORT: '0',
        SMTP_AUTH_MAX_FAILURES: '3',
      },
      { ses },
    );
  });
  afterAll(async () => {
    await gw.stop();
    await ses.stop();
    removeTempDirs();
  });

  it('refuses to relay for an unauthenticated outside client (530 5.7.0) and offers AUTH only after STARTTLS', async () => {
    const client = await SmtpClient.connect(gw.smtpPort);
    const ehlo = await client.hello();
    expect(ehlo.lines).toContain('STARTTLS');
    expect(ehlo.lines.some((l) => l.startsWith('AUTH'))).toBe(false);
    const mail = await client.command('MAIL FROM:<crm@example.com>');
    expect(mail.code).toBe(530);
    expect(mail.text).toBe('5.7.0 Authentication required');
    const early = await client.auth('crm', PASSWORD);
    expect(`${early.code} ${early.text}`).toBe('530 5.7.0 Must issue a STARTTLS command first');
    await client.startTls();
    const secured = await client.command('EHLO client.test');
    expect(secured.lines).toContain('AUTH PLAIN LOGIN');
    client.close();
  });

  it('relays for an authenticated user with its policy: sender list, configuration set, tags, identity ARN', async () => {
    ses.reset();
    const client = await SmtpClient.connect(gw.smtpPort);
    await client.hello();
    await client.startTls();
    await client.command('EHLO client.test');
    expect((await client.auth('crm', PASSWORD)).code).toBe(235);
    const refused = await client.command('MAIL FROM:<someone@else.example>');
    expect(refused.code).toBe(553);
    expect((await client.command('MAIL FROM:<invoices@billing.example.com>')).code).toBe(250);
    expect((await client.command('RCPT TO:<user@example.net>')).code).toBe(250);
    const message = simpleMessage({
      from: 'Billing <invoices@billing.example.com>',
      extra: ['X-SES-MESSAGE-TAGS: campaign=nov'],
    });
    expect((await client.data(message)).code).toBe(250);
    client.close();
    const send = await waitFor(() => ses.sends[0]);
    expect(send.configurationSet).toBe('crm-set');
    expect(send.tags).toEqual([
      { Name: 'smtp-user', Value: 'crm' },
      { Name: 'app', Value: 'crm' },
      { Name: 'campaign', Value: 'nov' },
    ]);
    const accepted = gw.logs.find((l) => l.msg === 'smtp.accepted' && l.user === 'crm');
    expect(accepted).toBeDefined();
  });

  it('throttles failed logins per client address across gateway instances (454 4.7.0)', async () => {
    const other = await startGateway(
      {
        SMTP_ALLOWED_NETWORKS: '10.0.0.0/8',
        SMTP_USERS_FILE: usersFile,
        SMTP_ALLOW_INSECURE_AUTH: 'true',
        SMTP_AUTH_MAX_FAILURES: '3',
        ROLES: 'smtp',
      },
      { ses, prefix: gw.config.REDIS_PREFIX, cleanup: false },
    );
    try {
      const client = await SmtpClient.connect(other.smtpPort);
      await client.hello();
      for (let i = 0; i < 3; i++) {
        const wrong = await client.auth('printer', 'wrong password');
        expect(wrong.code).toBe(535);
        expect(wrong.text).toBe('5.7.8 Authentication credentials invalid');
      }
      const blocked = await client.auth('printer', PASSWORD);
      expect(blocked.code).toBe(454);
      expect(blocked.text).toMatch(/^4\.7\.0 Too many failed logins/);
      client.close();
      // The first instance sees the same block: the counter lives in Redis.
      const elsewhere = await SmtpClient.connect(gw.smtpPort);
      await elsewhere.hello();
      await elsewhere.startTls();
      await elsewhere.command('EHLO client.test');
      expect((await elsewhere.auth('crm', PASSWORD)).code).toBe(454);
      elsewhere.close();
      expect(JSON.stringify(other.logs)).not.toContain(PASSWORD);
    } finally {
      await other.stop();
      await gw.redis.del(...(await gw.redis.keys(`${gw.config.REDIS_PREFIX}:auth-fail*`)));
    }
  });

  it('serves implicit TLS on SMTP_TLS_PORT and picks up a new certificate without a restart', async () => {
    const smtps = gw.addresses.smtps!.port;
    const first = await SmtpClient.connectTls(smtps);
    expect((await first.client.read()).code).toBe(220);
    expect(first.peer.fingerprint256).toBe(cert.fingerprint256);
    first.client.close();

    const next = await generateCertificate({ name: 'next' });
    replaceFile(cert.keyPath, next.key);
    replaceFile(cert.certPath, next.cert);
    await waitFor(
      async () => {
        const probe = await SmtpClient.connectTls(smtps);
        probe.client.close();
        return probe.peer.fingerprint256 === next.fingerprint256;
      },
      { what: 'the new certificate on SMTPS' },
    );
    const starttls = await SmtpClient.connect(gw.smtpPort);
    await starttls.hello();
    expect((await starttls.startTls()).fingerprint256).toBe(next.fingerprint256);
    starttls.close();
  });
});

describe('SMTP network edge cases', () => {
  let ses: FakeSes;
  beforeAll(async () => {
    ses = await startFakeSes();
  });
  afterAll(async () => {
    await ses.stop();
  });

  it('refuses MAIL before STARTTLS when SMTP_REQUIRE_TLS is on', async () => {
    const cert = await generateCertificate();
    const gw = await startGateway(
      { SMTP_TLS_CERT: cert.certPath, SMTP_TLS_KEY: cert.keyPath, SMTP_REQUIRE_TLS: 'true' },
      { ses },
    );
    try {
      const client = await SmtpClient.connect(gw.smtpPort);
      await client.hello();
      const mail = await client.command('MAIL FROM:<app@example.com>');
      expect(mail.code).toBe(530);
      expect(mail.text).toBe('5.7.0 Must issue a STARTTLS command first');
      await client.startTls();
      await client.command('EHLO client.test');
      expect((await client.command('MAIL FROM:<app@example.com>')).code).toBe(250);
      client.close();
    } finally {
      await gw.stop();
    }
  });

  it('limits connections per client address with 421 4.7.0', async () => {
    const gw = await startGateway({ SMTP_MAX_CONNECTIONS_PER_IP: '2' }, { ses });
    try {
      const a = await SmtpClient.connect(gw.smtpPort);
      const b = await SmtpClient.connect(gw.smtpPort);
      expect((await a.read()).code).toBe(220);
      expect((await b.read()).code).toBe(220);
      const c = await SmtpClient.connect(gw.smtpPort);
      const refused = await c.read();
      expect(refused.code).toBe(421);
      expect(refused.text).toBe('4.7.0 Too many connections from your host');
      a.close();
      await waitFor(async () => {
        const d = await SmtpClient.connect(gw.smtpPort);
        const reply = await d.read();
        d.close();
        return reply.code === 220;
      });
      b.close();
      c.close();
    } finally {
      await gw.stop();
    }
  });

  it('closes new connections at once while SMTP_MAX_CONNECTIONS wait for their PROXY header', async () => {
    const gw = await startGateway(
      { SMTP_PROXY_PROTOCOL: 'true', SMTP_PROXY_TRUSTED_NETWORKS: '127.0.0.1', SMTP_MAX_CONNECTIONS: '2' },
      { ses },
    );
    const open = () =>
      new Promise<net.Socket>((resolve, reject) => {
        const socket = net.connect(gw.smtpPort, '127.0.0.1', () => resolve(socket));
        socket.on('error', reject);
      });
    /** What the server says before it closes the socket (or after `ms`, if it keeps it open). */
    const closedWith = (socket: net.Socket, ms = 2000) =>
      new Promise<{ closed: boolean; text: string }>((resolve) => {
        let text = '';
        socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
        socket.once('close', () => resolve({ closed: true, text }));
        setTimeout(() => resolve({ closed: false, text }), ms).unref();
      });
    try {
      const silent = [await open(), await open()];
      expect(await closedWith(await open())).toEqual({ closed: true, text: '' });
      for (const socket of silent) socket.destroy();
      await waitFor(async () => {
        const socket = await open();
        socket.write('PROXY TCP4 127.0.0.1 127.0.0.1 40000 25\r\n');
        const reply = await closedWith(socket, 500);
        socket.destroy();
        return reply.text.startsWith('220 ');
      });
    } finally {
      await gw.stop();
    }
  });

  it('reads PROXY v1 and v2 headers before the handshake on the implicit-TLS port', async () => {
    const cert = await generateCertificate();
    const gw = await startGateway(
      {
        SMTP_TLS_CERT: cert.certPath,
        SMTP_TLS_KEY: cert.keyPath,
        SMTP_TLS_PORT: '0',
        SMTP_TLS_PROXY_PROTOCOL: 'true',
        SMTP_PROXY_TRUSTED_NETWORKS: '127.0.0.1',
        SMTP_ALLOWED_NETWORKS: '192.0.2.0/24',
      },
      { ses },
    );
    const smtps = gw.addresses.smtps!.port;
    const greeting = async (proxyHeader?: Buffer | string) => {
      const { client, peer } = await SmtpClient.connectTls(smtps, { proxyHeader });
      const reply = await client.read();
      client.close();
      expect(peer.fingerprint256).toBe(cert.fingerprint256);
      return `${reply.code} ${reply.text}`;
    };
    try {
      expect(await greeting('PROXY TCP4 192.0.2.9 127.0.0.1 40000 465\r\n')).toMatch(/^220 /);
      expect(await greeting('PROXY TCP4 198.51.100.7 127.0.0.1 40000 465\r\n')).toMatch(
        /^554 5\.7\.1 Client host \[198\.51\.100\.7\]/,
      );
      expect(await greeting(proxyV2('192.0.2.10', 465))).toMatch(/^220 /);

      // A session behind the header carries mail like any other.
      const { client } = await SmtpClient.connectTls(smtps, {
        proxyHeader: 'PROXY TCP4 192.0.2.11 127.0.0.1 40000 465\r\n',
      });
      expect((await client.read()).code).toBe(220);
      expect((await client.command('EHLO client.test')).code).toBe(250);
      expect((await client.command('MAIL FROM:<app@example.com>')).code).toBe(250);
      expect((await client.command('RCPT TO:<user@example.net>')).code).toBe(250);
      const sent = await client.data(simpleMessage());
      expect(sent.text).toMatch(/^2\.0\.0 Ok: queued as /);
      client.close();
      const accepted = gw.logs.find((l) => l.msg === 'smtp.accepted');
      expect(accepted?.client).toBe('192.0.2.11');
      await waitFor(() => ses.sends.find((send) => send.from === 'app@example.com'), {
        what: 'the message at SES',
      });

      // No header: the client's hello is not one, and the connection is closed without a reply.
      await expect(SmtpClient.connectTls(smtps)).rejects.toThrow();
      // A header, then plain text instead of a TLS hello: the handshake fails and the socket closes.
      const plain = await new Promise<string>((resolve) => {
        const socket = net.connect(smtps, '127.0.0.1', () =>
          socket.write('PROXY TCP4 192.0.2.9 127.0.0.1 40000 465\r\nEHLO plain.test\r\n'),
        );
        let text = '';
        socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
        socket.on('error', () => undefined);
        socket.on('close', () => resolve(text));
      });
      expect(plain).not.toMatch(/^220/);
      // The listener is still there for the next client.
      expect(await greeting('PROXY TCP4 192.0.2.9 127.0.0.1 40000 465\r\n')).toMatch(/^220 /);
    } finally {
      await gw.stop();
    }
  });

  it('reads the client address from PROXY v1 and v2 headers and refuses connections without one', async () => {
    const gw = await startGateway(
      {
        SMTP_PROXY_PROTOCOL: 'true',
        SMTP_PROXY_TRUSTED_NETWORKS: '127.0.0.1',
        SMTP_ALLOWED_NETWORKS: '192.0.2.0/24',
      },
      { ses },
    );
    const raw = async (header: Buffer | string) => {
      const socket = net.connect(gw.smtpPort, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(header);
      const reply = await new Promise<string>((resolve) => {
        let text = '';
        socket.on('data', (d: Buffer) => {
          text += d.toString('latin1');
          if (text.includes('\r\n')) resolve(text);
        });
        socket.on('close', () => resolve(text));
      });
      socket.destroy();
      return reply;
    };
    try {
      expect(await raw('PROXY TCP4 192.0.2.9 127.0.0.1 40000 25\r\n')).toMatch(/^220 /);
      expect(await raw('PROXY TCP4 198.51.100.7 127.0.0.1 40000 25\r\n')).toMatch(
        /^554 5\.7\.1 Client host \[198\.51\.100\.7\]/,
      );
      expect(await raw(proxyV2('192.0.2.10', 25))).toMatch(/^220 /);
      expect(await raw('EHLO no-proxy-header\r\n')).toMatch(
        /^421 4\.7\.0 PROXY protocol header missing or invalid/,
      );
    } finally {
      await gw.stop();
    }
  });
});
