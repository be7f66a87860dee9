import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendExamples } from '../../src/demo/send-examples.js';
import { deleteKeys, freePort, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { sendMail, simpleMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

const hasPython = spawnSync('python3', ['--version']).status === 0;

describe('npm run demo', () => {
  const prefix = uniquePrefix('demo');
  let child: ChildProcess;
  let output = '';
  let smtpPort: number;
  let sinkPort: number;

  beforeAll(async () => {
    const httpPort = await freePort();
    [smtpPort, sinkPort] = [await freePort(), await freePort()];
    child = spawn(process.execPath, ['--import', 'tsx', 'src/demo/main.ts'], {
      env: {
        PATH: process.env.PATH ?? '',
        DOTENV_PATH: '',
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: String(smtpPort),
        HTTP_PORT: String(httpPort),
        DEMO_SES_SINK_PORT: String(sinkPort),
        REDIS_URL: TEST_REDIS_URL,
        REDIS_PREFIX: prefix,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    await waitFor(() => output.includes('ses-relay demo is running'), {
      timeoutMs: 20_000,
      what: 'the demo',
    });
  }, 30_000);

  afterAll(async () => {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    const redis = new Redis(TEST_REDIS_URL);
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  /** The sink's captured message with this subject, once it is there. */
  const captured = (subject: string) =>
    waitFor(async () => {
      const res = await fetch(`http://127.0.0.1:${sinkPort}/store`);
      const body = (await res.json()) as { emails: { subject: string }[] };
      return body.emails.find((e) => e.subject === subject);
    });

  it('starts with the local SES sink when no AWS account is configured, and the sink shows the mail', async () => {
    expect(output).toContain('mail is CAPTURED by the local SES sink, NOT delivered');
    const result = await sendMail(smtpPort, {
      from: 'app@example.com',
      to: ['user@example.net'],
      message: simpleMessage({ subject: 'demo check' }),
    });
    expect(result.data?.code).toBe(250);
    expect((await captured('demo check')).subject).toBe('demo check');
  });

  it.skipIf(!hasPython)('the Python command it prints sends a message the sink shows', async () => {
    const command = sendExamples(smtpPort).python;
    expect(output).toContain(command);
    const run = spawnSync('sh', ['-c', command], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect((await captured('hi')).subject).toBe('hi');
  });

  it('prints the same test-message commands as the README shows', () => {
    const readme = fs.readFileSync('README.md', 'utf8');
    const examples = sendExamples(2525);
    expect(readme).toContain(examples.swaks);
    expect(readme).toContain(examples.python);
    expect(output).toContain(sendExamples(smtpPort).swaks);
  });
});
