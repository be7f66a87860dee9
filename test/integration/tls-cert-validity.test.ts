import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/shared/logger.js';
import { createCertificateStore, sniCallback } from '../../src/tls/index.js';
import { generateCertificate, removeTempDirs, tempDir, type TestCertificate } from '../helpers/tls-cert.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** One handshake; the fingerprint of the certificate the server presented. */
function peerFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.destroy();
      resolve(fingerprint);
    });
    socket.once('error', reject);
  });
}

describe('TLS certificate validity on reload', () => {
  let valid: TestCertificate;
  let expired: TestCertificate;
  let notYetValid: TestCertificate;
  let alsoExpired: TestCertificate;
  beforeAll(async () => {
    const now = Date.now();
    valid = await generateCertificate({ commonName: 'valid.test' });
    expired = await generateCertificate({
      commonName: 'expired.test',
      validity: { from: new Date(now - 30 * DAY_MS), to: new Date(now - DAY_MS) },
    });
    notYetValid = await generateCertificate({
      commonName: 'future.test',
      validity: { from: new Date(now + DAY_MS), to: new Date(now + 30 * DAY_MS) },
    });
    alsoExpired = await generateCertificate({
      commonName: 'also-expired.test',
      validity: { from: new Date(now - 20 * DAY_MS), to: new Date(now - 2 * DAY_MS) },
    });
  });
  afterAll(() => removeTempDirs());

  /** A store on a copy of `first`, behind a real TLS server that follows it. */
  async function serve(first: TestCertificate) {
    const dir = tempDir();
    const certPath = path.join(dir, 'tls.crt');
    const keyPath = path.join(dir, 'tls.key');
    fs.writeFileSync(certPath, first.cert);
    fs.writeFileSync(keyPath, first.key);
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger('debug', {
      write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>),
    });
    // A long debounce: only reload() (SIGHUP) reloads here, so every step is deterministic.
    const store = await createCertificateStore({ certPath, keyPath, logger, debounceMs: 60_000 });
    const server = tls.createServer({ ...store.options(), SNICallback: sniCallback(store) });
    store.onChange((material) => server.setSecureContext(material));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const install = (next: TestCertificate) => {
      fs.writeFileSync(keyPath, next.key);
      fs.writeFileSync(certPath, next.cert);
    };
    const close = async () => {
      store.close();
      await new Promise((resolve) => server.close(resolve));
    };
    return { store, port, lines, install, close };
  }

  it('keeps serving a valid certificate when a reload brings an expired or not yet valid one', async () => {
    const { store, port, lines, install, close } = await serve(valid);
    try {
      for (const refused of [expired, notYetValid]) {
        install(refused);
        expect(await store.reload()).toBe(false);
        expect(await peerFingerprint(port)).toBe(valid.fingerprint256);
        expect(store.info().fingerprint256).toBe(valid.fingerprint256);
        const logged = lines.findLast((line) => line.msg === 'tls.cert.reload_refused');
        expect(logged).toMatchObject({
          level: 'error',
          refused: { fingerprint256: refused.fingerprint256 },
          kept: { fingerprint256: valid.fingerprint256, subject: 'CN=valid.test' },
        });
      }
      expect(lines.filter((line) => line.msg === 'tls.cert.reload_refused')).toHaveLength(2);
      // A valid renewal after the refused ones is taken as usual.
      const renewed = await generateCertificate({ commonName: 'renewed.test' });
      install(renewed);
      expect(await store.reload()).toBe(true);
      expect(await peerFingerprint(port)).toBe(renewed.fingerprint256);
    } finally {
      await close();
    }
  });

  it('starts with an expired certificate (logged as expired) and lets any loadable one replace it', async () => {
    const { store, port, lines, install, close } = await serve(expired);
    try {
      expect(lines.find((line) => line.msg === 'tls.cert.expired')).toMatchObject({
        level: 'error',
        fingerprint256: expired.fingerprint256,
      });
      expect(await peerFingerprint(port)).toBe(expired.fingerprint256);
      install(alsoExpired);
      expect(await store.reload()).toBe(true);
      expect(await peerFingerprint(port)).toBe(alsoExpired.fingerprint256);
      expect(lines.some((line) => line.msg === 'tls.cert.reload_refused')).toBe(false);
    } finally {
      await close();
    }
  });
});
