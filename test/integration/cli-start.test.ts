import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSes, type FakeSes } from '../helpers/fake-ses.js';
import { deleteKeys, freePort, PrivateRedis, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { sendMail, simpleMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';
import { Redis } from 'ioredis';
import { RECOMMENDED_NODE_FLAGS } from '../../src/shared/node-flags.js';
import { entry } from '../helpers/cli-run.js';

const CLI = entry('src/cli/main.ts');

function run(env: Record<string, string>, args: string[]) {
  const child = spawn(process.execPath, [...CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', DOTENV_PATH: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // 'close', not 'exit': the process may have exited before the last of its output was read.
  const exit = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, exit, out: () => stdout, err: () => stderr };
}

describe('ses-relay start (a real process)', () => {
  let ses: FakeSes;
  beforeAll(async () => {
    ses = await startFakeSes();
  });
  afterAll(async () => {
    await ses.stop();
  });

  /** `ses-relay start` on free ports against the fake SES, with a key prefix of its own. */
  async function startGateway(extra: Record<string, string> = {}) {
    const prefix = uniquePrefix('cli');
    const smtpPort = await freePort();
    const httpPort = await freePort();
    const proc = run(
      {
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: String(smtpPort),
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: String(httpPort),
        REDIS_URL: TEST_REDIS_URL,
        REDIS_PREFIX: prefix,
        SES_ENDPOINT: ses.url,
        AWS_ACCESS_KEY_ID: 'AKIDTEST',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_REGION: 'eu-west-1',
        ...extra,
      },
      ['start'],
    );
    return {
      ...proc,
      smtpPort,
      httpPort,
      async cleanUp() {
        proc.child.kill('SIGKILL');
        const redis = new Redis(TEST_REDIS_URL);
        await deleteKeys(redis, prefix);
        redis.disconnect();
      },
    };
  }

  it('stops at start-up with one message naming every bad key, exit code 2', async () => {
    const proc = run({ SMTP_PORT: 'x', ROLES: 'mailer' }, ['start']);
    expect(await proc.exit).toBe(2);
    expect(proc.err()).toContain('Invalid configuration:');
    expect(proc.err()).toContain('SMTP_PORT');
    expect(proc.err()).toContain('ROLES');
  });

  it('names every file its roles cannot read in the one refusal, exit code 2', async () => {
    const proc = await startGateway({
      HTTP_TLS_CERT: '/nonexistent/http-cert.pem',
      HTTP_TLS_KEY: '/nonexistent/http-key.pem',
      SMTP_TLS_CERT: '/nonexistent/smtp-cert.pem',
      SMTP_TLS_KEY: '/nonexistent/smtp-key.pem',
      SMTP_USERS_FILE: '/nonexistent/users.yaml',
    });
    try {
      expect(await proc.exit).toBe(2);
      for (const [name, file] of [
        ['HTTP_TLS_CERT', 'http-cert.pem'],
        ['HTTP_TLS_KEY', 'http-key.pem'],
        ['SMTP_TLS_CERT', 'smtp-cert.pem'],
        ['SMTP_TLS_KEY', 'smtp-key.pem'],
        ['SMTP_USERS_FILE', 'users.yaml'],
      ]) {
        expect(proc.err()).toContain(`  ${name}: cannot read /nonexistent/${file} (ENOENT)`);
      }
      expect(proc.out()).not.toContain('app.start_failed');
    } finally {
      await proc.cleanUp();
    }
  });

  it('logs look-alike settings, and stops with exit code 2 when a named file is no certificate', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-relay-start-'));
    const notPem = path.join(dir, 'cert.pem');
    fs.writeFileSync(notPem, 'not a certificate\n');
    const proc = await startGateway({
      ROLES: 'http',
      HTTP_TLS_CERT: notPem,
      HTTP_TLS_KEY: notPem,
      SMTP_MAX_MESAGE_BYTES: '1MB',
    });
    try {
      expect(await proc.exit).toBe(2);
      const lines = proc
        .out()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(lines.find((line) => line.msg === 'config.unknown_setting')).toMatchObject({
        level: 'warn',
        name: 'SMTP_MAX_MESAGE_BYTES',
        suggestion: 'SMTP_MAX_MESSAGE_BYTES',
      });
      expect(lines.find((line) => line.msg === 'app.start_failed')?.err).toContain(
        `HTTP_TLS_CERT ${notPem} is not a PEM certificate`,
      );
    } finally {
      await proc.cleanUp();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names a look-alike setting beside the refusal it explains, as the operator commands do', async () => {
    const proc = run({ ADMIN_USER: 'ops', ADMIN_PASWORD: 'a-long-password-for-the-admin-page' }, ['start']);
    expect(await proc.exit).toBe(2);
    expect(proc.err()).toContain(
      'ses-relay: warning: ADMIN_PASWORD is not a setting and is ignored (did you mean ADMIN_PASSWORD?)\n' +
        'ses-relay: Invalid configuration:\n  ADMIN_USER: ADMIN_USER and ADMIN_PASSWORD go together',
    );
    expect(proc.err()).not.toContain('a-long-password');
  });

  it('refuses a .env value dotenv would cut at an unquoted #, naming the setting but not the value', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-relay-start-'));
    const envFile = path.join(dir, '.env');
    fs.writeFileSync(envFile, 'ADMIN_TOKEN=Xk9v2#Lq7pR4sT8uW1yZ3bN6\n');
    const proc = await startGateway({ DOTENV_PATH: envFile, ROLES: 'http' });
    try {
      // Taken, the token would guard /admin cut to "Xk9v2": the gateway would start.
      await waitFor(() => proc.child.exitCode !== null || proc.out().includes('"msg":"app.started"'), {
        timeoutMs: 20_000,
        what: 'the gateway to exit or start',
      });
      expect(proc.child.exitCode).toBe(2);
      await proc.exit;
      expect(proc.err()).toContain(`${envFile} line 1: ADMIN_TOKEN: quote a value that contains #`);
      expect(proc.err()).not.toContain('Xk9v2');
    } finally {
      await proc.cleanUp();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 1 when a Redis that was down at start-up comes back evicting keys', async () => {
    const redis = new PrivateRedis(await freePort(), ['--maxmemory-policy', 'allkeys-lru']);
    // ROLES=smtp: a worker waits for Redis before the other roles start (see app.ts).
    const proc = await startGateway({ REDIS_URL: redis.url, ROLES: 'smtp' });
    try {
      await waitFor(() => proc.out().includes('redis.unreachable_at_start'), {
        timeoutMs: 20_000,
        what: 'the deferred durability check',
      });
      await redis.start();
      expect(await proc.exit).toBe(1);
      expect(proc.out()).toContain('"msg":"redis.not_acceptable"');
    } finally {
      await proc.cleanUp();
      await redis.stop();
    }
  });

  it('relays mail and exits 0 on SIGTERM after draining', async () => {
    const proc = await startGateway();
    const { smtpPort } = proc;
    try {
      await waitFor(() => proc.out().includes('"msg":"app.started"'), {
        timeoutMs: 20_000,
        what: 'the gateway to start',
      });
      const result = await sendMail(smtpPort, {
        from: 'app@example.com',
        to: ['u@example.net'],
        message: simpleMessage(),
      });
      expect(result.data?.code).toBe(250);
      // Started without the recommended Node flags (shared/node-flags.ts): the log says which.
      const hint = proc
        .out()
        .split('\n')
        .find((line) => line.includes('"msg":"app.node_flags_missing"'));
      expect((JSON.parse(hint!) as { missing: string[] }).missing).toEqual(RECOMMENDED_NODE_FLAGS);
      await waitFor(() => ses.sends.length === 1);
      proc.child.kill('SIGTERM');
      expect(await proc.exit).toBe(0);
      expect(proc.out()).toContain('"msg":"app.stopped"');
    } finally {
      await proc.cleanUp();
    }
  });

  it('runs the smtp role in SMTP_PROCESSES children on one port: mail from both, metrics summed, one SIGTERM stops all', async () => {
    const proc = await startGateway({ SMTP_PROCESSES: '2' });
    const { smtpPort, httpPort } = proc;
    const sendsBefore = ses.sends.length;
    try {
      await waitFor(() => proc.out().split('"msg":"app.started"').length === 4, {
        timeoutMs: 20_000,
        what: 'the primary and both SMTP processes to start',
      });
      expect(proc.out()).toContain('"msg":"smtp.processes_started"');
      // Connections are handed out in turn, so twenty at once reach both children.
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          sendMail(smtpPort, {
            from: 'app@example.com',
            to: [`u${i}@example.net`],
            message: simpleMessage(),
          }),
        ),
      );
      expect(results.map((result) => result.data?.code)).toEqual(Array(20).fill(250));
      await waitFor(() => ses.sends.length - sendsBefore === 20, { what: '20 sends' });
      const acceptedBy = new Set(
        proc
          .out()
          .split('\n')
          .filter((line) => line.includes('"msg":"smtp.accepted"'))
          .map((line) => (JSON.parse(line) as { smtpProcess?: number }).smtpProcess),
      );
      expect([...acceptedBy].sort()).toEqual([0, 1]);
      const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      expect(metrics).toMatch(/^ses_relay_messages_accepted_total 20$/m);

      // A child that dies is replaced, and mail keeps flowing.
      const started = proc
        .out()
        .split('\n')
        .find((line) => line.includes('"msg":"smtp.processes_started"'));
      const [victim, other] = (JSON.parse(started!) as { pids: number[] }).pids;
      // The children run with the recommended Node flags the primary was started without.
      for (const pid of [victim!, other!]) {
        const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        expect(argv).toEqual(expect.arrayContaining([...RECOMMENDED_NODE_FLAGS]));
      }
      expect(proc.out().split('"msg":"app.node_flags_missing"').length).toBe(2);
      process.kill(victim!, 'SIGKILL');
      await waitFor(() => proc.out().includes('"msg":"smtp.process_restarted"'), {
        what: 'the primary to replace the killed child',
      });
      const after = await sendMail(smtpPort, {
        from: 'app@example.com',
        to: ['after@example.net'],
        message: simpleMessage(),
      });
      expect(after.data?.code).toBe(250);

      proc.child.kill('SIGTERM');
      expect(await proc.exit).toBe(0);
      // The primary, the surviving child and the replacement.
      expect(proc.out().split('"msg":"app.stopped"').length).toBe(4);
    } finally {
      await proc.cleanUp();
    }
  });
});
