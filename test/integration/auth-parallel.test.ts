import fs from 'node:fs';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
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

describe('a password spray: parallel AUTHs with one wrong password', () => {
  const PARALLEL = 5;
  const ROUNDS = 3;
  let gw: TestGateway;
  beforeAll(async () => {
    const file = path.join(tempDir('spray'), 'users.json');
    // Cost 10: long enough that the parallel AUTHs' checks overlap.
    fs.writeFileSync(
      file,
      JSON.stringify({ users: [{ username: 'crm', password: bcrypt.hashSync('the-real-password', 10) }] }),
    );
    gw = await startGateway({
      SMTP_USERS_FILE: file,
      SMTP_ALLOW_INSECURE_AUTH: 'true',
      // Room for every spray below: the point is the bcrypt runs, not the throttle.
      SMTP_AUTH_MAX_FAILURES: '100',
      ROLES: 'smtp',
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  afterAll(async () => {
    await gw.stop();
    removeTempDirs();
  });

  /** Bcrypt runs while PARALLEL connections send AUTH PLAIN for `username` with one wrong password at once. */
  async function spray(username: string, password: string): Promise<number> {
    const clients = await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        const client = await SmtpClient.connect(gw.smtpPort);
        await client.hello();
        return client;
      }),
    );
    const compare = vi.spyOn(bcrypt, 'compare');
    try {
      const replies = await Promise.all(clients.map((client) => client.auth(username, password)));
      expect(replies.map((reply) => reply.code)).toEqual(Array<number>(PARALLEL).fill(535));
      return compare.mock.calls.length;
    } finally {
      compare.mockRestore();
      for (const client of clients) client.close();
    }
  }

  it('costs an unknown name no more bcrypt runs than a real one, so the answer time does not tell which exists', async () => {
    // Counted rather than timed. Checks that overlap share one run; how many overlap depends on the
    // machine's load, so the two are compared round by round, with room for one straggler each.
    const known: number[] = [];
    const unknown: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      known.push(await spray('crm', `wrong-${round}-a`));
      unknown.push(await spray('no-such-user', `wrong-${round}-b`));
    }
    const sum = (counts: number[]) => counts.reduce((a, b) => a + b, 0);
    // Before the fix: one run per attempt for the unknown name (PARALLEL * ROUNDS), about one per
    // round for the real one.
    expect(sum(unknown), `runs: known ${known.join('/')}, unknown ${unknown.join('/')}`).toBeLessThanOrEqual(
      sum(known) + ROUNDS,
    );
  });
});
