import fs from 'node:fs';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createKeys } from '../../src/shared/keys.js';
import { startFakeSes, type FakeSes } from '../helpers/fake-ses.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { SmtpClient } from '../helpers/smtp-client.js';
import { uniquePrefix } from '../helpers/redis.js';
import { removeTempDirs, tempDir } from '../helpers/tls-cert.js';

const PASSWORD = 'parallel-auth-password';
/** Connections that try to log in at the same moment, spread over two gateway instances. */
const CONNECTIONS = 40;
const MAX_FAILURES = 5;

describe('AUTH from many connections at once', () => {
  let ses: FakeSes;
  /** Two instances sharing one Redis prefix, as two hosts behind a load balancer would. */
  let gateways: TestGateway[];
  beforeAll(async () => {
    ses = await startFakeSes();
    const usersFile = path.join(tempDir('users'), 'users.yaml');
    // Cost 8: each check takes long enough that every connection's AUTH is in flight at once.
    fs.writeFileSync(
      usersFile,
      `users:\n  - username: app\n    password: "${bcrypt.hashSync(PASSWORD, 8)}"\n`,
    );
    const env = {
      SMTP_USERS_FILE: usersFile,
      SMTP_ALLOW_INSECURE_AUTH: 'true',
      SMTP_AUTH_MAX_FAILURES: String(MAX_FAILURES),
      SMTP_MAX_CONNECTIONS_PER_IP: String(CONNECTIONS),
      ROLES: 'smtp',
    };
    const prefix = uniquePrefix('auth-parallel');
    gateways = [
      await startGateway(env, { ses, prefix }),
      await startGateway(env, { ses, prefix, cleanup: false }),
    ];
  });
  afterEach(async () => {
    const gw = gateways[0]!;
    const keys = await gw.redis.keys(`${createKeys(gw.config.REDIS_PREFIX).authFailures}:*`);
    if (keys.length > 0) await gw.redis.del(...keys);
  });
  afterAll(async () => {
    for (const gw of gateways.reverse()) await gw.stop();
    await ses.stop();
    removeTempDirs();
  });

  /** Opens every connection and says EHLO, then sends all the AUTH commands together. */
  async function authAtOnce(password: (i: number) => string) {
    const clients = await Promise.all(
      Array.from({ length: CONNECTIONS }, async (_, i) => {
        const client = await SmtpClient.connect(gateways[i % gateways.length]!.smtpPort);
        await client.hello();
        return client;
      }),
    );
    try {
      return await Promise.all(clients.map((client, i) => client.auth('app', password(i))));
    } finally {
      for (const client of clients) client.close();
    }
  }

  it('checks at most SMTP_AUTH_MAX_FAILURES guesses from one address, however many arrive in parallel', async () => {
    const replies = await authAtOnce((i) => `wrong guess ${i}`);
    const checked = replies.filter((reply) => reply.code === 535);
    expect(checked).toHaveLength(MAX_FAILURES);
    expect(checked[0]!.text).toBe('5.7.8 Authentication credentials invalid');
    const refused = replies.filter((reply) => reply.code === 454);
    expect(refused).toHaveLength(CONNECTIONS - MAX_FAILURES);
    for (const reply of refused)
      expect(reply.text).toMatch(/^4\.7\.0 Too many (failed logins|logins in progress)/);
    // Each guess that reached bcrypt is logged once, whichever instance took it.
    const failures = gateways.flatMap((gw) => gw.logs.filter((line) => line.msg === 'smtp.auth_failed'));
    expect(failures).toHaveLength(MAX_FAILURES);
  });

  it('logs in every connection of a pool with the right password, a few at a time', async () => {
    const replies = await authAtOnce(() => PASSWORD);
    expect(replies.map((reply) => reply.code)).toEqual(Array<number>(CONNECTIONS).fill(235));
  });
});
