import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSes, type FakeSes } from '../helpers/fake-ses.js';
import { startGateway } from '../helpers/gateway.js';
import { generateCertificate, removeTempDirs } from '../helpers/tls-cert.js';

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
});
