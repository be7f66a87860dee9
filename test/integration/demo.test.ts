import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { deleteKeys, freePort, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { sendMail, simpleMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

describe('npm run demo', () => {
  it('starts with the local SES sink when no AWS account is configured, and the sink shows the mail', async () => {
    const prefix = uniquePrefix('demo');
    const [smtpPort, httpPort, sinkPort] = [await freePort(), await freePort(), await freePort()];
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/demo/main.ts'], {
      env: {
        PATH: process.env.PATH ?? '',
        DOTENV_PATH: '/nonexistent',
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: String(smtpPort),
        HTTP_PORT: String(httpPort),
        DEMO_SES_SINK_PORT: String(sinkPort),
        REDIS_URL: TEST_REDIS_URL,
        REDIS_PREFIX: prefix,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    try {
      await waitFor(() => output.includes('ses-relay demo is running'), {
        timeoutMs: 20_000,
        what: 'the demo',
      });
      expect(output).toContain('mail is CAPTURED by the local SES sink, NOT delivered');
      const result = await sendMail(smtpPort, {
        from: 'app@example.com',
        to: ['user@example.net'],
        message: simpleMessage({ subject: 'demo check' }),
      });
      expect(result.data?.code).toBe(250);
      const store = await waitFor(async () => {
        const res = await fetch(`http://127.0.0.1:${sinkPort}/store`);
        const body = (await res.json()) as { emails: { subject: string }[] };
        return body.emails.find((e) => e.subject === 'demo check');
      });
      expect(store.subject).toBe('demo check');
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      const redis = new Redis(TEST_REDIS_URL);
      await deleteKeys(redis, prefix);
      redis.disconnect();
    }
  });
});
