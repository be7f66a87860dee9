import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { generateCertificate, removeTempDirs } from '../helpers/tls-cert.js';
import { waitFor } from '../helpers/wait.js';

/** Connects, sends `data` (if any), and collects what the server says until it closes the socket. */
function exchange(port: number, data?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      if (data !== undefined) socket.write(data);
    });
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
  });
}

describe('PROXY protocol only from SMTP_PROXY_TRUSTED_NETWORKS', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    const cert = await generateCertificate();
    // The test client connects from loopback, which is not a trusted load balancer here; the address
    // it claims is one that may relay without AUTH.
    gw = await startGateway({
      SMTP_PROXY_PROTOCOL: 'true',
      SMTP_TLS_PROXY_PROTOCOL: 'true',
      SMTP_PROXY_TRUSTED_NETWORKS: '10.0.0.0/8, fd00::/8',
      SMTP_ALLOWED_NETWORKS: '192.0.2.0/24',
      SMTP_TLS_CERT: cert.certPath,
      SMTP_TLS_KEY: cert.keyPath,
      SMTP_TLS_PORT: '0',
    });
  });
  afterAll(async () => {
    await gw.stop();
    removeTempDirs();
  });

  it('refuses a plain-port peer outside the list with 421 4.7.0 before reading a header, and logs it', async () => {
    const spoofed =
      'PROXY TCP4 192.0.2.9 127.0.0.1 40000 25\r\nEHLO spoof.test\r\nMAIL FROM:<app@example.com>\r\n';
    expect(await exchange(gw.smtpPort, spoofed)).toBe(
      '421 4.7.0 Connections are taken only through the load balancer\r\n',
    );
    // Without sending anything: the refusal does not wait for a header.
    expect(await exchange(gw.smtpPort)).toMatch(/^421 4\.7\.0 /);
    const logged = await waitFor(() => gw.logs.find((line) => line.msg === 'smtp.refused.proxy_untrusted'));
    expect(logged).toMatchObject({ level: 'warn', listener: 'smtp', client: '127.0.0.1' });
    expect(gw.logs.some((line) => line.msg === 'smtp.accepted' || line.client === '192.0.2.9')).toBe(false);
  });

  it('closes an implicit-TLS peer outside the list without a byte', async () => {
    const smtps = gw.addresses.smtps!.port;
    expect(await exchange(smtps, 'PROXY TCP4 192.0.2.9 127.0.0.1 40000 465\r\n')).toBe('');
    expect(await exchange(smtps)).toBe('');
    await waitFor(() =>
      gw.logs.find((line) => line.msg === 'smtp.refused.proxy_untrusted' && line.listener === 'smtps'),
    );
  });
});
