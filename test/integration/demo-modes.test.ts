// `npm run demo` as a newcomer meets it: it refuses a sink port another process holds (a second demo
// would otherwise hand its mail to the first one's sink), says loudly when inherited AWS settings
// make it deliver through real SES, and prints working admin credentials and the exact CLI command
// for its own queue. Each test runs the demo as a real process with a clean environment.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BANNER, demoPorts, startDemo, stopDemo, type Demo } from '../helpers/demo-process.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

describe('npm run demo: where mail goes', () => {
  const prefix = uniquePrefix('demo-modes');
  let demo: Demo | undefined;
  afterEach(async () => {
    await stopDemo(demo);
    demo = undefined;
  });
  afterAll(async () => {
    const redis = new Redis(TEST_REDIS_URL);
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('exits non-zero naming DEMO_SES_SINK_PORT when something already listens on the sink port', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const busy = (holder.address() as net.AddressInfo).port;
    try {
      demo = startDemo({
        ...(await demoPorts()),
        DEMO_SES_SINK_PORT: String(busy),
        REDIS_URL: TEST_REDIS_URL,
        REDIS_PREFIX: prefix,
      });
      await waitFor(() => demo!.child.exitCode !== null || demo!.child.signalCode !== null, {
        timeoutMs: 20_000,
        what: 'the demo to exit',
      });
      expect(await demo.exited).toBe(1);
      expect(demo.stderr()).toContain(`DEMO_SES_SINK_PORT ${busy} is in use`);
      expect(demo.stdout()).not.toContain(BANNER);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  }, 30_000);

  it('says loudly that it delivers through REAL Amazon SES, and why, when AWS_PROFILE is inherited', async () => {
    demo = startDemo({
      ...(await demoPorts()),
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: prefix,
      // A profile that exists nowhere, and no other source the SDK could find credentials in.
      AWS_PROFILE: 'ses-relay-test-no-such-profile',
      AWS_CONFIG_FILE: '/nonexistent/ses-relay-test/config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/ses-relay-test/credentials',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    await waitFor(() => demo!.stdout().includes(BANNER), { timeoutMs: 20_000, what: 'the banner' });
    expect(demo.stdout()).toContain('Delivering through REAL Amazon SES (us-east-1): AWS_PROFILE is set');
    expect(demo.stdout()).toContain('env -u AWS_PROFILE npm run demo');
    expect(demo.stdout()).not.toContain('SES sink  http');
  }, 30_000);

  it('delivers through REAL Amazon SES when the AWS keys are in .env, and says to remove them there', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-relay-demo-'));
    const envFile = path.join(dir, '.env');
    // An unreachable proxy: the demo must not reach AWS with these keys.
    fs.writeFileSync(
      envFile,
      'AWS_ACCESS_KEY_ID=AKIAEXAMPLEDEMO00000\nAWS_SECRET_ACCESS_KEY=demo-secret\nHTTPS_PROXY=http://127.0.0.1:1\n',
    );
    try {
      demo = startDemo({
        ...(await demoPorts()),
        DOTENV_PATH: envFile,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_PREFIX: prefix,
      });
      await waitFor(() => demo!.stdout().includes(BANNER), { timeoutMs: 20_000, what: 'the banner' });
      expect(demo.stdout()).toContain(
        'Delivering through REAL Amazon SES (us-east-1): AWS_ACCESS_KEY_ID is set',
      );
      expect(demo.stdout()).toContain(`run\n     without it: remove AWS_ACCESS_KEY_ID from ${envFile}\n`);
      expect(demo.stdout()).not.toContain('SES sink  http');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('refuses a configuration with exit code 2, naming the look-alike setting that explains it', async () => {
    demo = startDemo({
      ...(await demoPorts()),
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: prefix,
      ADMIN_USER: 'ops',
      ADMIN_PASWORD: 'a-long-password-for-the-admin-page',
    });
    expect(await demo.exited).toBe(2);
    expect(demo.stderr()).toContain(
      'ses-relay: warning: ADMIN_PASWORD is not a setting and is ignored (did you mean ADMIN_PASSWORD?)\n' +
        'ses-relay: Invalid configuration:\n  ADMIN_USER: ADMIN_USER and ADMIN_PASSWORD go together',
    );
    expect(demo.stdout()).not.toContain(BANNER);
  }, 30_000);
});

describe('npm run demo: what the banner offers', () => {
  const prefix = uniquePrefix('demo-banner');
  let demo: Demo;
  let httpPort: string;

  beforeAll(async () => {
    const ports = await demoPorts();
    httpPort = ports.HTTP_PORT!;
    demo = startDemo({
      ...ports,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: prefix,
      SMTP_MAX_MESAGE_BYTES: '1MiB',
    });
    await waitFor(() => demo.stdout().includes(BANNER), { timeoutMs: 20_000, what: 'the banner' });
  }, 30_000);

  afterAll(async () => {
    await stopDemo(demo);
    const redis = new Redis(TEST_REDIS_URL);
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  const bannerValue = (pattern: RegExp) => {
    const match = pattern.exec(demo.stdout());
    expect(match, String(pattern)).not.toBeNull();
    return match![1]!;
  };

  it('warns about a setting name that is not one, as npm start does', () => {
    const warning = demo
      .stdout()
      .split('\n')
      .find((line) => line.includes('config.unknown_setting'));
    expect(warning).toBeDefined();
    expect(JSON.parse(warning!)).toMatchObject({
      name: 'SMTP_MAX_MESAGE_BYTES',
      suggestion: 'SMTP_MAX_MESSAGE_BYTES',
    });
  });

  it('prints the admin page, a generated ADMIN_TOKEN that opens the admin API, and credentials that open the queue dashboard', async () => {
    const base = `http://127.0.0.1:${httpPort}`;
    expect(demo.stdout()).toContain(`Admin page  ${base}/admin `);
    const token = bannerValue(/ADMIN_TOKEN=(\S+)/);
    const stats = await fetch(`${base}/admin/api/stats`, { headers: { authorization: `Bearer ${token}` } });
    expect(stats.status).toBe(200);
    const [, user, password] = /admin\/queues\/ {2}user (\S+), password (\S+)/.exec(demo.stdout()) ?? [];
    const basic = Buffer.from(`${user}:${password}`).toString('base64');
    const board = await fetch(`${base}/admin/queues/`, { headers: { authorization: `Basic ${basic}` } });
    expect(board.status).toBe(200);
  });

  it("prints the exact CLI command for this demo's queue, and it runs without a build", () => {
    const command = bannerValue(/^ {3}(.*src\/cli\/main\.ts queue stats)$/m);
    expect(command).toBe(
      `REDIS_URL=${TEST_REDIS_URL} REDIS_PREFIX=${prefix} npx tsx src/cli/main.ts queue stats`,
    );
    const run = spawnSync('sh', ['-c', command], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', DOTENV_PATH: '' },
      timeout: 30_000,
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(`queue outbound (prefix ${prefix})`);
  }, 40_000);

  it("paces from the sink's GetAccount answer: its MaxSendRate of 50 times SES_RATE_FACTOR", async () => {
    const rate = await waitFor(async () => {
      const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      return /^ses_relay_pacing_rate (\S+)$/m.exec(text)?.[1];
    });
    expect(Number(rate)).toBe(45);
    expect(demo.stdout()).not.toContain('ses.account_unreadable');
  });
});

describe('npm run demo without REDIS_PREFIX', () => {
  it("captures mail into a queue of its own, never a deployment's on a Redis they share", async () => {
    const demo = startDemo({ ...(await demoPorts()), REDIS_URL: TEST_REDIS_URL });
    try {
      await waitFor(() => demo.stdout().includes(BANNER), { timeoutMs: 20_000, what: 'the banner' });
      expect(demo.stdout()).toContain(
        `REDIS_URL=${TEST_REDIS_URL} REDIS_PREFIX=ses-relay-demo npx tsx src/cli/main.ts queue stats`,
      );
    } finally {
      await stopDemo(demo);
      const redis = new Redis(TEST_REDIS_URL);
      await deleteKeys(redis, 'ses-relay-demo');
      redis.disconnect();
    }
  }, 30_000);
});
