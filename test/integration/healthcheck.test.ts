// The container health check script (src/cli/healthcheck.ts, the image's HEALTHCHECK and compose's):
// GET /healthz over HTTP, or over HTTPS when HTTP_TLS_CERT is set, exit 0 on a 200 and 1 otherwise.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSes, type FakeSes } from '../helpers/fake-ses.js';
import { startGateway } from '../helpers/gateway.js';
import { freePort } from '../helpers/redis.js';
import { generateCertificate, removeTempDirs } from '../helpers/tls-cert.js';
import { entry } from '../helpers/cli-run.js';

function healthcheck(env: Record<string, string>): Promise<number | null> {
  const child = spawn(process.execPath, entry('src/cli/healthcheck.ts'), {
    env: { PATH: process.env.PATH ?? '', DOTENV_PATH: '', ...env },
    stdio: 'ignore',
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('container health check', () => {
  let ses: FakeSes;
  beforeAll(async () => {
    ses = await startFakeSes();
  });
  afterAll(async () => {
    await ses.stop();
    removeTempDirs();
  });

  it('passes against a plain HTTP role and fails when nothing listens', async () => {
    const gw = await startGateway({ ROLES: 'http' }, { ses });
    try {
      expect(await healthcheck({ HTTP_PORT: String(gw.httpPort), HTTP_HOST: '0.0.0.0' })).toBe(0);
    } finally {
      await gw.stop();
    }
    expect(await healthcheck({ HTTP_PORT: String(await freePort()) })).toBe(1);
  });

  it('reads its settings around white space, as the gateway does (a CRLF env file)', async () => {
    const gw = await startGateway({ ROLES: 'http', HTTP_HOST: '127.0.0.1\r' }, { ses });
    try {
      const env = { HTTP_PORT: `${gw.httpPort}\r`, HTTP_HOST: '127.0.0.1\r', HTTP_TLS_CERT: ' ' };
      expect(await healthcheck(env)).toBe(0);
    } finally {
      await gw.stop();
    }
  });

  it('speaks HTTPS when HTTP_TLS_CERT is set, as the server then does', async () => {
    const cert = await generateCertificate({ name: 'healthcheck' });
    const gw = await startGateway(
      { ROLES: 'http', HTTP_TLS_CERT: cert.certPath, HTTP_TLS_KEY: cert.keyPath },
      { ses },
    );
    try {
      const env = {
        HTTP_PORT: String(gw.httpPort),
        HTTP_TLS_CERT: cert.certPath,
        HTTP_TLS_KEY: cert.keyPath,
      };
      expect(await healthcheck(env)).toBe(0);
      // Plain HTTP to an HTTPS-only server is what the old check did: it fails.
      expect(await healthcheck({ HTTP_PORT: String(gw.httpPort) })).toBe(1);
    } finally {
      await gw.stop();
    }
  });
});
