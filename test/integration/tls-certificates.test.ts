import fs from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/shared/logger.js';
import {
  acceptTls,
  createCertificateStore,
  followCertificateStore,
  smtpServerTlsOptions,
  sniCallback,
  type CertificateStore,
} from '../../src/tls/index.js';
import {
  generateCertificate,
  removeTempDirs,
  replaceFile,
  tempDir,
  type TestCertificate,
} from '../helpers/tls-cert.js';
import { waitFor } from '../helpers/wait.js';

/** One handshake; the fingerprint of the certificate the server presented. No SNI unless `servername`. */
function peerFingerprint(port: number, servername?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.destroy();
      resolve(fingerprint);
    });
    socket.once('error', reject);
  });
}

function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('debug', {
    write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  return { logger, lines };
}

describe('TLS certificate store', () => {
  let first: TestCertificate;
  let second: TestCertificate;
  beforeAll(async () => {
    first = await generateCertificate({ commonName: 'first.test' });
    second = await generateCertificate({ commonName: 'second.test' });
  });
  afterAll(() => removeTempDirs());

  /** A live copy of `first` in a directory of its own, which the test then rewrites. */
  async function liveStore(debounceMs = 50) {
    const dir = tempDir();
    const certPath = path.join(dir, 'tls.crt');
    const keyPath = path.join(dir, 'tls.key');
    fs.writeFileSync(certPath, first.cert);
    fs.writeFileSync(keyPath, first.key);
    const log = capture();
    const store = await createCertificateStore({ certPath, keyPath, logger: log.logger, debounceMs });
    return { store, certPath, keyPath, ...log };
  }

  it('loads a matching pair with TLS 1.2 as the floor and describes the certificate', async () => {
    const { store, lines } = await liveStore();
    try {
      expect(store.options()).toEqual({ key: first.key, cert: first.cert, minVersion: 'TLSv1.2' });
      expect(store.info().fingerprint256).toBe(first.fingerprint256);
      expect(store.info().subject).toBe('CN=first.test');
      expect(lines.find((l) => l.msg === 'tls.cert.loaded')?.fingerprint256).toBe(first.fingerprint256);
    } finally {
      store.close();
    }
  });

  it('refuses a key that does not belong to the certificate, naming both files', async () => {
    const logger = createLogger('silent');
    await expect(
      createCertificateStore({ certPath: first.certPath, keyPath: second.keyPath, logger }),
    ).rejects.toThrow(
      `SMTP_TLS_KEY ${second.keyPath} does not match the certificate in SMTP_TLS_CERT ${first.certPath}`,
    );
    await expect(
      createCertificateStore({ certPath: first.keyPath, keyPath: first.keyPath, logger }),
    ).rejects.toThrow(/^SMTP_TLS_CERT .* is not a PEM certificate/);
    await expect(
      createCertificateStore({ certPath: first.certPath, keyPath: first.certPath, logger }),
    ).rejects.toThrow(/^SMTP_TLS_KEY .* is not an unencrypted PEM private key/);
    await expect(
      createCertificateStore({ certPath: '/nonexistent/tls.crt', keyPath: first.keyPath, logger }),
    ).rejects.toThrow(/^SMTP_TLS_CERT \/nonexistent\/tls\.crt cannot be read: ENOENT/);
  });

  describe('on a tls.Server', () => {
    let store: CertificateStore;
    let files: { certPath: string; keyPath: string; lines: Record<string, unknown>[] };
    let server: tls.Server;
    let port: number;
    beforeAll(async () => {
      const live = await liveStore();
      store = live.store;
      files = live;
      server = tls.createServer({ ...store.options(), SNICallback: sniCallback(store) });
      // Clients without SNI get the server's default context; it follows the store too.
      store.onChange((material) => server.setSecureContext(material));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(async () => {
      store.close();
      await new Promise((resolve) => server.close(resolve));
    });

    it('serves a replaced certificate from the next handshake on, with and without SNI', async () => {
      expect(await peerFingerprint(port, 'localhost')).toBe(first.fingerprint256);
      expect(await peerFingerprint(port)).toBe(first.fingerprint256);
      replaceFile(files.keyPath, second.key);
      replaceFile(files.certPath, second.cert);
      await waitFor(async () => (await peerFingerprint(port, 'localhost')) === second.fingerprint256, {
        what: 'the new certificate over SNI',
      });
      expect(await peerFingerprint(port)).toBe(second.fingerprint256);
    });

    it('keeps serving the old certificate while the pair does not match, then takes the new pair', async () => {
      const failuresBefore = files.lines.filter((l) => l.msg === 'tls.cert.reload_failed').length;
      replaceFile(files.certPath, first.cert); // the key is still the second one
      await waitFor(
        () => files.lines.filter((l) => l.msg === 'tls.cert.reload_failed').length > failuresBefore,
        { what: 'the failed reload' },
      );
      expect(files.lines.findLast((l) => l.msg === 'tls.cert.reload_failed')?.err).toMatch(/does not match/);
      expect(await peerFingerprint(port, 'localhost')).toBe(second.fingerprint256);
      expect(await peerFingerprint(port)).toBe(second.fingerprint256);

      replaceFile(files.keyPath, first.key);
      await waitFor(async () => (await peerFingerprint(port, 'localhost')) === first.fingerprint256, {
        what: 'the matching pair',
      });
      expect(await peerFingerprint(port)).toBe(first.fingerprint256);
    });
  });

  it('drives an implicit-TLS smtp-server: reload() applies to SNI and non-SNI clients alike', async () => {
    const { store, certPath, keyPath } = await liveStore();
    const server = new SMTPServer({
      secure: true,
      ...smtpServerTlsOptions(store),
      logger: false,
      authOptional: true,
      disableReverseLookup: true,
    });
    // The test client hangs up right after the handshake; smtp-server reports that as an error.
    server.on('error', () => undefined);
    const unfollow = followCertificateStore(server, store);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.server.address() as AddressInfo).port;
    try {
      expect(await peerFingerprint(port)).toBe(first.fingerprint256);
      expect(await peerFingerprint(port, 'localhost')).toBe(first.fingerprint256);
      // As SIGHUP would: the files change and reload() is called before any watch event is handled.
      fs.writeFileSync(keyPath, second.key);
      fs.writeFileSync(certPath, second.cert);
      expect(await store.reload()).toBe(true);
      expect(await peerFingerprint(port)).toBe(second.fingerprint256);
      expect(await peerFingerprint(port, 'localhost')).toBe(second.fingerprint256);
    } finally {
      unfollow();
      store.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  describe('acceptTls (the handshake after a PROXY header)', () => {
    /** A TCP server that reads `prefix` off each socket in clear, then hands the socket to acceptTls. */
    async function server(store: CertificateStore, prefix: string, timeoutMs: number) {
      const outcomes: (tls.TLSSocket | Error)[] = [];
      const tcp = net.createServer((socket) => {
        socket.once('readable', () => {
          const head = socket.read(prefix.length) as Buffer | null;
          expect(head?.toString()).toBe(prefix);
          acceptTls(socket, store, timeoutMs).then(
            (secure) => {
              outcomes.push(secure);
              secure.end('hello over TLS\n');
            },
            (err: Error) => outcomes.push(err),
          );
        });
      });
      await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
      return { tcp, outcomes, port: (tcp.address() as AddressInfo).port };
    }

    it('finishes a handshake whose hello arrived with the header, and times out a silent peer', async () => {
      const { store } = await liveStore();
      const { tcp, outcomes, port } = await server(store, 'HDR\n', 300);
      try {
        const raw = net.connect(port, '127.0.0.1');
        await new Promise((resolve) => raw.once('connect', resolve));
        raw.cork();
        raw.write('HDR\n');
        const client = tls.connect({ socket: raw, rejectUnauthorized: false });
        process.nextTick(() => raw.uncork());
        let text = '';
        client.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        await new Promise((resolve) => client.once('end', resolve));
        expect(text).toBe('hello over TLS\n');
        expect(client.getPeerCertificate().fingerprint256).toBe(first.fingerprint256);
        client.destroy();

        const silent = net.connect(port, '127.0.0.1');
        silent.on('error', () => undefined);
        silent.write('HDR\n');
        const closed = new Promise((resolve) => silent.once('close', resolve));
        const failure = await waitFor(() => outcomes.find((o) => o instanceof Error));
        expect(failure.message).toBe('TLS handshake not done after 300 ms');
        await closed;
      } finally {
        tcp.close();
        store.close();
      }
    });
  });
});
