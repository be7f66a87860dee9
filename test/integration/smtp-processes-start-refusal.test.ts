// SMTP_PROCESSES > 1: a certificate the children refuse at start-up (a key of another certificate)
// stops the gateway with exit code 2 and the children's message, as it does in one process.
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { entry } from '../helpers/cli-run.js';
import { freePort, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { generateCertificate, removeTempDirs } from '../helpers/tls-cert.js';

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, [...entry('src/cli/main.ts'), 'start'], {
    env: { PATH: process.env.PATH ?? '', DOTENV_PATH: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, exit, out: () => stdout, err: () => stderr };
}

describe('SMTP processes refusing their certificate at start-up', () => {
  afterAll(() => removeTempDirs());

  it('exits 2 with the reason, as a single process does', async () => {
    const first = await generateCertificate({ commonName: 'first.test' });
    const second = await generateCertificate({ commonName: 'second.test' });
    const proc = start({
      ROLES: 'smtp,http',
      SMTP_PROCESSES: '2',
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(await freePort()),
      HTTP_PORT: String(await freePort()),
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: uniquePrefix('smtp-refusal'),
      SMTP_TLS_CERT: first.certPath,
      SMTP_TLS_KEY: second.keyPath,
    });
    try {
      expect(await proc.exit).toBe(2);
      expect(proc.err()).toContain(
        `SMTP_TLS_KEY ${second.keyPath} does not match the certificate in SMTP_TLS_CERT ${first.certPath}`,
      );
      expect(proc.err()).toMatch(
        /SMTP process \d exited during start-up \(2\): its configuration was refused/,
      );
    } finally {
      if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
    }
  }, 60_000);
});
