// `ses-relay start` as a real process, at the edges of its life: what its first log line says, what
// SIGHUP does, a port another process holds, and a stdout that can no longer be written (a closed
// terminal, a full disk), which must never leave the process hanging on its ports.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSes, type FakeSes } from '../helpers/fake-ses.js';
import { deleteKeys, freePort, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { sendMail, simpleMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

const CLI = ['--import', 'tsx', 'src/cli/main.ts', 'start'];
/**
 * Loaded before the gateway: on SIGUSR2 it leaves a rejected promise unhandled, or throws outside
 * any handler (FAULT=throw), as a bug in the gateway or a dependency would.
 */
const FAULT_ON_SIGUSR2 = `data:text/javascript,${encodeURIComponent(
  "process.on('SIGUSR2', () => process.env.FAULT === 'throw'" +
    " ? setImmediate(() => { throw new Error('fault injected by the test'); })" +
    " : void Promise.reject(new Error('fault injected by the test')));",
)}`;
/** A file that refuses every write with ENOSPC, as a full disk does. */
const FULL_DEVICE = '/dev/full';

interface Gateway {
  exit: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
  out(): string;
  err(): string;
  smtpPort: number;
  httpPort: number;
}

describe('ses-relay start: how the process begins and ends', () => {
  const prefix = uniquePrefix('lifecycle');
  let ses: FakeSes;
  const started: Gateway[] = [];
  beforeAll(async () => {
    ses = await startFakeSes();
  });
  afterAll(async () => {
    for (const gateway of started) gateway.kill('SIGKILL');
    await ses.stop();
    const redis = new Redis(TEST_REDIS_URL);
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  /** `stdout`: a pipe the test reads, or a file descriptor the process writes to instead. */
  async function startGateway(
    env: Record<string, string> = {},
    stdout: 'pipe' | number = 'pipe',
    nodeArgs: string[] = [],
  ) {
    const smtpPort = Number(env.SMTP_PORT ?? (await freePort()));
    const httpPort = await freePort();
    const child = spawn(process.execPath, [...nodeArgs, ...CLI], {
      env: {
        PATH: process.env.PATH ?? '',
        DOTENV_PATH: '',
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: String(smtpPort),
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: String(httpPort),
        REDIS_URL: TEST_REDIS_URL,
        REDIS_PREFIX: prefix,
        SES_ENDPOINT: ses.url,
        AWS_ACCESS_KEY_ID: 'AKIDTEST',
        AWS_SECRET_ACCESS_KEY: 'test',
        ...env,
      },
      stdio: ['ignore', stdout, 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    // 'close', not 'exit': the process may have exited before the last of its output was read.
    const exit = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    const gateway: Gateway = {
      exit,
      kill: (signal) => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      },
      out: () => out,
      err: () => err,
      smtpPort,
      httpPort,
    };
    started.push(gateway);
    return gateway;
  }

  const logLines = (gateway: Gateway) =>
    gateway
      .out()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  it('logs its version, Node and ports in app.started, re-reads files on SIGHUP, and exits 0 on SIGTERM', async () => {
    const gateway = await startGateway();
    await waitFor(() => gateway.out().includes('"msg":"app.started"'), {
      timeoutMs: 20_000,
      what: 'app.started',
    });
    const version = (JSON.parse(fs.readFileSync('package.json', 'utf8')) as { version: string }).version;
    expect(logLines(gateway).find((line) => line.msg === 'app.started')).toMatchObject({
      roles: ['smtp', 'worker', 'http'],
      smtp: gateway.smtpPort,
      http: gateway.httpPort,
      version,
      node: process.version,
    });
    gateway.kill('SIGHUP');
    await waitFor(() => gateway.out().includes('"msg":"app.reload"'), { what: 'the reload' });
    expect((await fetch(`http://127.0.0.1:${gateway.httpPort}/readyz`)).status).toBe(200);
    gateway.kill('SIGTERM');
    expect(await gateway.exit).toBe(0);
  }, 30_000);

  it.each([
    ['reject', 'process.unhandled_rejection'],
    ['throw', 'process.uncaught_exception'],
  ])(
    'logs a fault it did not handle (%s) as fatal, with its stack, and exits 1',
    async (fault, msg) => {
      const gateway = await startGateway({ FAULT: fault }, 'pipe', ['--import', FAULT_ON_SIGUSR2]);
      await waitFor(() => gateway.out().includes('"msg":"app.started"'), {
        timeoutMs: 20_000,
        what: 'app.started',
      });
      gateway.kill('SIGUSR2');
      expect(await gateway.exit).toBe(1);
      const fatal = logLines(gateway).find((line) => line.msg === msg);
      expect(fatal).toMatchObject({ level: 'fatal', err: 'fault injected by the test' });
      expect(fatal?.stack).toContain('Error: fault injected by the test');
    },
    30_000,
  );

  it('names SMTP_PORT on stderr and exits 1 when another process listens on it', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const busy = (holder.address() as net.AddressInfo).port;
    try {
      const gateway = await startGateway({ SMTP_PORT: String(busy) });
      expect(await gateway.exit).toBe(1);
      const reason = `SMTP_PORT ${busy}: another process already listens on 127.0.0.1:${busy} (EADDRINUSE)`;
      expect(gateway.err()).toContain(`ses-relay: start-up failed: ${reason}`);
      expect(logLines(gateway).find((line) => line.msg === 'app.start_failed')?.err).toContain(reason);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  }, 30_000);

  it.skipIf(!fs.existsSync(FULL_DEVICE))(
    'keeps relaying, and stops on SIGTERM, when stdout refuses its log lines',
    async () => {
      const full = fs.openSync(FULL_DEVICE, 'w');
      let gateway: Gateway;
      try {
        gateway = await startGateway({}, full);
      } finally {
        fs.closeSync(full);
      }
      await waitFor(
        async () =>
          (await fetch(`http://127.0.0.1:${gateway.httpPort}/readyz`).catch(() => undefined))?.status === 200,
        {
          timeoutMs: 20_000,
          what: 'the gateway to be ready',
        },
      );
      expect(gateway.err()).toContain(
        'ses-relay: log lines cannot be written to stdout (ENOSPC); logging stopped, the gateway runs on',
      );
      const sendsBefore = ses.sends.length;
      const result = await sendMail(gateway.smtpPort, {
        from: 'app@example.com',
        to: ['user@example.net'],
        message: simpleMessage(),
      });
      expect(result.data?.code).toBe(250);
      await waitFor(() => ses.sends.length > sendsBefore, { what: 'the message to reach SES' });
      gateway.kill('SIGTERM');
      expect(await gateway.exit).toBe(0);
    },
    30_000,
  );
});
