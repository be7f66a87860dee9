import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeys } from '../../src/shared/keys.js';
import { startFakeSes, type FakeSes } from '../helpers/fake-ses.js';
import { startGateway } from '../helpers/gateway.js';
import { SmtpClient } from '../helpers/smtp-client.js';
import { generateCertificate, removeTempDirs, tempDir } from '../helpers/tls-cert.js';
import { waitFor } from '../helpers/wait.js';

function httpsGet(
  port: number,
  path: string,
): Promise<{ status: number; body: string; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    let fingerprint = '';
    const req = https.get(
      { host: '127.0.0.1', port, path, rejectUnauthorized: false, agent: false },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, fingerprint }));
      },
    );
    req.on('socket', (socket: TLSSocket) => {
      socket.once('secureConnect', () => (fingerprint = socket.getPeerCertificate().fingerprint256));
    });
    req.on('error', reject);
  });
}

describe('HTTP role as deployed', () => {
  let ses: FakeSes;
  beforeAll(async () => {
    ses = await startFakeSes();
  });
  afterAll(async () => {
    await ses.stop();
    removeTempDirs();
  });

  it('hides /admin (404) when no admin credentials are configured, and says so at start-up', async () => {
    const gw = await startGateway({ ROLES: 'http' }, { ses });
    try {
      const res = await fetch(`http://127.0.0.1:${gw.httpPort}/admin/api/stats`);
      expect(res.status).toBe(404);
      expect(gw.logs.some((l) => l.level === 'warn' && /admin/i.test(String(l.msg)))).toBe(true);
    } finally {
      await gw.stop();
    }
  });

  it('serves the admin API with a bearer token and stays ready while an operator pauses sending', async () => {
    const gw = await startGateway({ ROLES: 'http', ADMIN_TOKEN: 'adm1n-t0ken-for-tests' }, { ses });
    const auth = { authorization: 'Bearer adm1n-t0ken-for-tests', 'content-type': 'application/json' };
    try {
      expect((await fetch(`http://127.0.0.1:${gw.httpPort}/admin/api/stats`)).status).toBe(401);
      const stats = await fetch(`http://127.0.0.1:${gw.httpPort}/admin/api/stats`, { headers: auth });
      expect(stats.status).toBe(200);
      expect(await stats.json()).toHaveProperty('queue');
      const paused = await fetch(`http://127.0.0.1:${gw.httpPort}/admin/api/queue/pause`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ reason: 'maintenance' }),
      });
      expect(paused.status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${gw.httpPort}/readyz`)).status).toBe(200);
      await fetch(`http://127.0.0.1:${gw.httpPort}/admin/api/queue/resume`, {
        method: 'POST',
        headers: auth,
        body: '{}',
      });
    } finally {
      await gw.stop();
    }
  });

  it('stays ready while SES or the reputation guard holds sending, and shows the hold in metrics', async () => {
    const gw = await startGateway({ ROLES: 'http' }, { ses });
    const holdKey = createKeys(gw.config.REDIS_PREFIX).sendingHold;
    try {
      for (const by of ['reputation', 'ses'] as const) {
        await gw.redis.hset(holdKey, { since: String(Date.now()), reason: `held by ${by}`, by });
        const ready = await fetch(`http://127.0.0.1:${gw.httpPort}/readyz`);
        // A hold must not take pods out of service: intake, SNS feedback and the resume API go on.
        expect(ready.status, by).toBe(200);
        expect(await ready.json()).toEqual({ status: 'ready', problems: [] });
        const metrics = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
        expect(metrics).toContain(`ses_relay_sending_held{by="${by}"} 1`);
        await gw.redis.del(holdKey);
      }
    } finally {
      await gw.stop();
    }
  });

  it('answers 503 draining on /readyz from the moment shutdown starts', async () => {
    const gw = await startGateway({}, { ses });
    const client = await SmtpClient.connect(gw.smtpPort);
    try {
      expect((await client.hello()).code).toBe(250);
      // A transaction in progress keeps the shutdown waiting (up to SHUTDOWN_TIMEOUT) while HTTP is up.
      expect((await client.command('MAIL FROM:<app@example.com>')).code).toBe(250);
      expect((await fetch(`http://127.0.0.1:${gw.httpPort}/readyz`)).status).toBe(200);
      const stopping = gw.app.stop();
      const body = await waitFor(
        async () => {
          const res = await fetch(`http://127.0.0.1:${gw.httpPort}/readyz`);
          return res.status === 503 ? ((await res.json()) as { status: string }) : undefined;
        },
        { timeoutMs: 3000, what: '/readyz to answer 503' },
      );
      expect(body.status).toBe('draining');
      await client.command('QUIT');
      await stopping;
    } finally {
      client.close();
      await gw.stop();
    }
  });

  it('serves HTTPS from HTTP_TLS_CERT/HTTP_TLS_KEY', async () => {
    const cert = await generateCertificate({ name: 'http' });
    const gw = await startGateway(
      { ROLES: 'http', HTTP_TLS_CERT: cert.certPath, HTTP_TLS_KEY: cert.keyPath },
      { ses },
    );
    try {
      const res = await httpsGet(gw.httpPort, '/healthz');
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toEqual({ status: 'ok' });
      expect(res.fingerprint).toBe(cert.fingerprint256);
    } finally {
      await gw.stop();
    }
  });

  it('reads HTTP_TLS_CERT/HTTP_TLS_KEY again on reload (SIGHUP), not only when the files change', async () => {
    // The settings name symlinks into another directory, so writing the new pair there is seen by
    // no file watch (it watches the links' directory): only the reload can pick it up.
    const first = await generateCertificate({ name: 'first' });
    const second = await generateCertificate({ name: 'second' });
    const links = tempDir('links');
    const certPath = path.join(links, 'http.crt');
    const keyPath = path.join(links, 'http.key');
    const target = { cert: path.join(tempDir('pair'), 'http.crt'), key: '' };
    target.key = path.join(path.dirname(target.cert), 'http.key');
    fs.writeFileSync(target.cert, first.cert);
    fs.writeFileSync(target.key, first.key);
    fs.symlinkSync(target.cert, certPath);
    fs.symlinkSync(target.key, keyPath);
    const gw = await startGateway({ ROLES: 'http', HTTP_TLS_CERT: certPath, HTTP_TLS_KEY: keyPath }, { ses });
    try {
      expect((await httpsGet(gw.httpPort, '/healthz')).fingerprint).toBe(first.fingerprint256);
      fs.writeFileSync(target.key, second.key);
      fs.writeFileSync(target.cert, second.cert);
      await gw.app.reload();
      expect((await httpsGet(gw.httpPort, '/healthz')).fingerprint).toBe(second.fingerprint256);
    } finally {
      await gw.stop();
    }
  });
});
