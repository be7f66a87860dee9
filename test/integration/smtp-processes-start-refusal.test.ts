// SMTP_PROCESSES > 1: a certificate the children refuse at start-up (a key of another certificate)
// stops the gateway with exit code 2 and the children's message, as it does in one process.
import { afterAll, describe, expect, it } from 'vitest';
import { entry, startCli } from '../helpers/cli-run.js';
import { freePort, uniquePrefix } from '../helpers/redis.js';
import { generateCertificate, removeTempDirs } from '../helpers/tls-cert.js';

describe('SMTP processes refusing their certificate at start-up', () => {
  afterAll(() => removeTempDirs());

  it('exits 2 with the reason, as a single process does', async () => {
    const first = await generateCertificate({ commonName: 'first.test' });
    const second = await generateCertificate({ commonName: 'second.test' });
    const proc = startCli(
      ['start'],
      {
        ROLES: 'smtp,http',
        SMTP_PROCESSES: '2',
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: String(await freePort()),
        HTTP_PORT: String(await freePort()),
        REDIS_PREFIX: uniquePrefix('smtp-refusal'),
        SMTP_TLS_CERT: first.certPath,
        SMTP_TLS_KEY: second.keyPath,
      },
      undefined,
      entry('src/cli/main.ts'),
    );
    try {
      const { code, stderr } = await proc.done;
      expect(code).toBe(2);
      expect(stderr).toContain(
        `SMTP_TLS_KEY ${second.keyPath} does not match the certificate in SMTP_TLS_CERT ${first.certPath}`,
      );
      expect(stderr).toMatch(/SMTP process \d exited during start-up \(2\): its configuration was refused/);
    } finally {
      if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
    }
  }, 60_000);
});
