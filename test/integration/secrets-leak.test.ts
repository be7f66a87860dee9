// Secrets never reach the logs, SMTP replies or HTTP answers: a whole gateway runs with every secret
// set (some through *_FILE), the SES client signs with the configured AWS keys, and SMTP (AUTH right
// and wrong, PLAIN and LOGIN, a users-file reload that fails on a pasted plaintext password), admin,
// metrics and webhook traffic is driven through it, at LOG_LEVEL debug. Then no secret — nor its
// base64 form as it travels in AUTH and Basic credentials — may appear in anything captured.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import bcrypt from 'bcryptjs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { parseConfig, type Config, type EnvInput } from '../../src/config/index.js';
import { SECRET_KEYS } from '../../src/config/secret-keys.js';
import { createLogger, REDACTED_FIELDS } from '../../src/shared/logger.js';
import { startFakeSes, type FakeSes } from '../helpers/fake-ses.js';
import type { LogLine } from '../helpers/gateway.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { simpleMessage, SmtpClient, type SmtpReply } from '../helpers/smtp-client.js';
import {
  createSnsSigner,
  sesFixture,
  snsHeaders,
  TEST_TOPIC_ARN,
  type SnsSigner,
} from '../helpers/sns-signer.js';
import { removeTempDirs, tempDir } from '../helpers/tls-cert.js';
import { waitFor } from '../helpers/wait.js';

const marker = (name: string) => `${name}-${crypto.randomBytes(9).toString('hex')}`;
const SECRETS = {
  /** Only logged by mistake in the redaction test: the gateway here talks to a Redis without a password. */
  REDIS_URL: `redis://:${marker('redis-password')}@redis.example:6379`,
  REDIS_SENTINEL_PASSWORD: marker('sentinel-password'),
  AWS_ACCESS_KEY_ID: `AKIA${crypto.randomBytes(8).toString('hex').toUpperCase()}`,
  AWS_SECRET_ACCESS_KEY: marker('aws-secret'),
  AWS_SESSION_TOKEN: marker('aws-session'),
  ADMIN_TOKEN: marker('admin-token'),
  ADMIN_PASSWORD: marker('admin-password'),
  METRICS_TOKEN: marker('metrics-token'),
  SUPPRESSION_HASH_KEY: marker('hmac-key'),
  SMTP_PASSWORD: marker('smtp-password'),
  /** Wrong guesses are somebody's real password too, typed into the wrong box. */
  WRONG_PASSWORD: marker('wrong-password'),
  PASTED_PLAINTEXT: marker('pasted-plaintext'),
};
const ADMIN_USER = 'ops';
const SMTP_USER = 'crm';
/** Secrets given through a file, to cover the *_FILE path too. */
const FROM_FILES = ['AWS_SECRET_ACCESS_KEY', 'ADMIN_PASSWORD', 'SUPPRESSION_HASH_KEY'] as const;

const b64 = (text: string) => Buffer.from(text).toString('base64');
/** Every form a secret travels in: as is, and base64 in AUTH PLAIN/LOGIN and Basic credentials. */
function forbiddenStrings(): string[] {
  const values = Object.values(SECRETS);
  return [
    ...values,
    ...values.map(b64),
    b64(`\0${SMTP_USER}\0${SECRETS.SMTP_PASSWORD}`),
    b64(`\0${SMTP_USER}\0${SECRETS.WRONG_PASSWORD}`),
    b64(`${ADMIN_USER}:${SECRETS.ADMIN_PASSWORD}`),
    b64(`${ADMIN_USER}:${SECRETS.WRONG_PASSWORD}`),
  ];
}

function usersYaml(password: string): string {
  return ['users:', `  - username: ${SMTP_USER}`, `    password: "${password}"`].join('\n');
}

interface Running {
  app: App;
  config: Config;
  logs: LogLine[];
  smtpPort: number;
  httpPort: number;
}

/** Like startGateway, but the SES client is the production one, built from the configured keys. */
async function startWithSecrets(env: EnvInput, signer: SnsSigner): Promise<Running> {
  const config = parseConfig(env);
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const app = createApp(config, {
    logger: createLogger(config.LOG_LEVEL, sink),
    fetchSnsCertificate: signer.fetchCertificate,
  });
  const addresses = await app.start();
  return { app, config, logs, smtpPort: addresses.smtp!.port, httpPort: addresses.http!.port };
}

describe('secrets stay out of logs, replies and error bodies', () => {
  let ses: FakeSes;
  let signer: SnsSigner;
  let gw: Running;
  let usersFile: string;
  const prefix = uniquePrefix('secrets');
  /** Every SMTP reply and HTTP answer (status line, headers, body) seen by the clients. */
  const answers: string[] = [];

  beforeAll(async () => {
    ses = await startFakeSes();
    signer = await createSnsSigner();
    const dir = tempDir('secrets');
    usersFile = path.join(dir, 'users.yaml');
    fs.writeFileSync(usersFile, usersYaml(bcrypt.hashSync(SECRETS.SMTP_PASSWORD, 4)));
    const env: EnvInput = {
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: '0',
      HTTP_PORT: '0',
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: prefix,
      SES_ENDPOINT: ses.url,
      SES_MAX_SEND_RATE: '1000',
      SEND_RETRY_BASE: '50ms',
      SEND_RETRY_MAX: '200ms',
      SHUTDOWN_TIMEOUT: '5s',
      LOG_LEVEL: 'debug',
      SMTP_USERS_FILE: usersFile,
      SMTP_ALLOW_INSECURE_AUTH: 'true',
      SMTP_AUTH_MAX_FAILURES: '3',
      SNS_TOPIC_ARNS: TEST_TOPIC_ARN,
      ADMIN_USER,
      AWS_ACCESS_KEY_ID: SECRETS.AWS_ACCESS_KEY_ID,
      AWS_SESSION_TOKEN: SECRETS.AWS_SESSION_TOKEN,
      ADMIN_TOKEN: SECRETS.ADMIN_TOKEN,
      METRICS_TOKEN: SECRETS.METRICS_TOKEN,
    };
    for (const key of FROM_FILES) {
      const file = path.join(dir, key.toLowerCase());
      fs.writeFileSync(file, `${SECRETS[key]}\n`);
      env[`${key}_FILE`] = file;
    }
    gw = await startWithSecrets(env, signer);
  });

  afterAll(async () => {
    await gw?.app.stop();
    const redis = new Redis(TEST_REDIS_URL);
    await deleteKeys(redis, prefix);
    redis.disconnect();
    await ses?.stop();
    removeTempDirs();
  });

  const keep = (reply: SmtpReply) => {
    answers.push(`${reply.code} ${reply.text}`);
    return reply;
  };

  async function http(
    method: string,
    url: string,
    headers: Record<string, string> = {},
    body?: string,
  ): Promise<number> {
    const res = await fetch(`http://127.0.0.1:${gw.httpPort}${url}`, { method, headers, body });
    const text = await res.text();
    answers.push(`${res.status} ${JSON.stringify([...res.headers])} ${text}`);
    return res.status;
  }

  it('reads the *_FILE secrets and uses every secret where it belongs', () => {
    expect(gw.config.AWS_SECRET_ACCESS_KEY).toBe(SECRETS.AWS_SECRET_ACCESS_KEY);
    expect(gw.config.ADMIN_PASSWORD).toBe(SECRETS.ADMIN_PASSWORD);
    expect(gw.config.SUPPRESSION_HASH_KEY).toBe(SECRETS.SUPPRESSION_HASH_KEY);
  });

  it('drives SMTP with AUTH (right, wrong, PLAIN, LOGIN, throttled) and delivers through SES with the configured keys', async () => {
    const ok = await SmtpClient.connect(gw.smtpPort);
    keep(await ok.hello());
    expect(keep(await ok.auth(SMTP_USER, SECRETS.SMTP_PASSWORD)).code).toBe(235);
    expect(keep(await ok.command('MAIL FROM:<app@example.com>')).code).toBe(250);
    expect(keep(await ok.command('RCPT TO:<jane@example.com>')).code).toBe(250);
    expect(keep(await ok.data(simpleMessage())).code).toBe(250);
    ok.close();
    await waitFor(() => ses.sends.length >= 1, { what: 'the SES send' });

    const login = await SmtpClient.connect(gw.smtpPort);
    keep(await login.hello());
    expect(keep(await login.command('AUTH LOGIN')).code).toBe(334);
    expect(keep(await login.command(b64(SMTP_USER))).code).toBe(334);
    expect(keep(await login.command(b64(SECRETS.WRONG_PASSWORD))).code).toBe(535);
    // A password sent as the user name (a classic client misconfiguration) is not logged either.
    expect(keep(await login.auth(SECRETS.SMTP_PASSWORD, SECRETS.WRONG_PASSWORD)).code).toBe(535);
    expect(keep(await login.auth(SMTP_USER, SECRETS.WRONG_PASSWORD)).code).toBe(535);
    expect(keep(await login.auth(SMTP_USER, SECRETS.SMTP_PASSWORD)).code).toBe(454);
    login.close();
  });

  it('keeps a plaintext password pasted into the users file out of the reload error', async () => {
    fs.writeFileSync(usersFile, usersYaml(SECRETS.PASTED_PLAINTEXT));
    await gw.app.reload();
    await waitFor(() => gw.logs.some((line) => line.msg === 'auth.users.reload_failed'), {
      what: 'the failed reload',
    });
  });

  it('drives admin with right and wrong token and basic credentials', async () => {
    const bearer = { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` };
    const basic = (password: string) => ({ authorization: `Basic ${b64(`${ADMIN_USER}:${password}`)}` });
    expect(await http('GET', '/admin/api/stats', bearer)).toBe(200);
    expect(await http('GET', '/admin/api/stats', basic(SECRETS.ADMIN_PASSWORD))).toBe(200);
    expect(await http('GET', '/admin/api/stats', basic(SECRETS.WRONG_PASSWORD))).toBe(401);
    expect(await http('GET', '/admin/api/stats', { authorization: `Bearer ${SECRETS.WRONG_PASSWORD}` })).toBe(
      401,
    );
    expect(await http('GET', '/admin/queues/api/queues', basic(SECRETS.ADMIN_PASSWORD))).toBe(200);
    const json = { ...bearer, 'content-type': 'application/json' };
    expect(await http('POST', '/admin/api/suppressions', json, '{"address":"x@example.com"}')).toBe(201);
    expect(await http('GET', '/admin/api/suppressions/x@example.com', bearer)).toBe(200);
    expect(await http('GET', '/admin/api/suppressions/export', bearer)).toBe(200);
    expect(await http('POST', '/admin/api/queue/pause', json, '{"reason":"secrets test"}')).toBe(200);
    expect(await http('POST', '/admin/api/queue/resume', json, '{}')).toBe(200);
    expect(await http('POST', '/admin/api/queue/pause', json, `{"reason":`)).toBe(400);
    expect(await http('GET', '/admin/api/suppressions/%E0', bearer)).toBe(400);
    expect(await http('DELETE', '/admin/api/suppressions/x@example.com', bearer)).toBe(200);
  });

  it('drives metrics with right, wrong and no token', async () => {
    expect(await http('GET', '/metrics', { authorization: `Bearer ${SECRETS.METRICS_TOKEN}` })).toBe(200);
    expect(await http('GET', '/metrics', { authorization: `Bearer ${SECRETS.WRONG_PASSWORD}` })).toBe(401);
    expect(await http('GET', '/metrics')).toBe(401);
  });

  it('drives the webhook with a signed bounce (privacy mode: hashed), a forgery and garbage', async () => {
    const bounce = sesFixture('bounce-permanent') as { mail: { messageId: string } };
    bounce.mail.messageId = ses.sends[0]!.messageId;
    const signed = signer.notification(bounce);
    expect(await http('POST', '/sns', snsHeaders(signed), JSON.stringify(signed))).toBe(200);
    const forged = { ...signed, Message: signed.Message.replace('jane@', 'victim@') };
    expect(await http('POST', '/sns', snsHeaders(signed), JSON.stringify(forged))).toBe(403);
    expect(await http('POST', '/sns', {}, '{"Type":')).toBe(400);
  });

  it('has no secret in any log line, SMTP reply or HTTP answer', async () => {
    // Let the worker and the webhook finish their log lines.
    await waitFor(() => gw.logs.some((line) => line.msg === 'ses.sent'), { what: 'ses.sent' });
    const captured = [
      ...gw.logs.map((line) => JSON.stringify(line)),
      ...answers,
      // The refused values for the config loader's own error text.
      configErrorText(),
    ];
    expect(gw.logs.length).toBeGreaterThan(20);
    const leaks = forbiddenStrings().flatMap((secret) =>
      captured.filter((text) => text.includes(secret)).map((text) => `${secret} in ${text.slice(0, 300)}`),
    );
    expect(leaks).toEqual([]);
  });
});

/** A config that fails on secrets (both forms set) and on a plain key, next to valid secrets. */
function configErrorText(): string {
  try {
    parseConfig({
      ADMIN_TOKEN: SECRETS.ADMIN_TOKEN,
      ADMIN_TOKEN_FILE: '/nonexistent',
      SUPPRESSION_HASH_KEY: SECRETS.SUPPRESSION_HASH_KEY,
      AWS_ACCESS_KEY_ID: SECRETS.AWS_ACCESS_KEY_ID,
      ADMIN_PASSWORD: SECRETS.ADMIN_PASSWORD,
      SMTP_PORT: 'not a port',
    });
  } catch (err) {
    const text = (err as Error).message;
    expect(text).toMatch(/ADMIN_TOKEN_FILE: set together with ADMIN_TOKEN/);
    expect(text).toMatch(/SMTP_PORT/);
    return text;
  }
  throw new Error('the config should have been refused');
}

describe('logger redaction', () => {
  it('covers every secret configuration key', () => {
    for (const key of SECRET_KEYS) expect(REDACTED_FIELDS.has(key)).toBe(true);
  });

  it('censors secrets a call site logs by mistake: a config, headers, credentials', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const logger = createLogger('debug', sink);
    const config = Object.fromEntries(SECRET_KEYS.map((key) => [key, SECRETS[key]]));
    logger.info({ config: { ...config, SMTP_PORT: 25 } }, 'test.config');
    logger.info(
      { req: { headers: { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}`, cookie: 'sid=1' } } },
      'x',
    );
    logger.info(
      { headers: { authorization: `Basic ${b64(`u:${SECRETS.ADMIN_PASSWORD}`)}` } },
      'test.headers',
    );
    logger.info(
      {
        credentials: {
          accessKeyId: SECRETS.AWS_ACCESS_KEY_ID,
          secretAccessKey: SECRETS.AWS_SECRET_ACCESS_KEY,
        },
        password: SECRETS.SMTP_PASSWORD,
        METRICS_TOKEN: SECRETS.METRICS_TOKEN,
      },
      'test.flat',
    );
    const child = logger.child({ token: SECRETS.METRICS_TOKEN, sid: 'child-1' });
    child.info({ nested: { deeper: { cookie: 'sid=2' } }, err: new Error('kept') }, 'test.child');
    logger.flush();
    const text = lines.join('');
    expect(text).toContain('"SMTP_PORT":25');
    expect(text).toContain('"sid":"child-1"');
    expect(text).toContain('"message":"kept"');
    expect(text).toContain('"[redacted]"');
    const logged = [...SECRET_KEYS.map((key) => SECRETS[key]), SECRETS.SMTP_PASSWORD, 'sid=1', 'sid=2'];
    for (const secret of logged) expect(text).not.toContain(secret);
  });
});
