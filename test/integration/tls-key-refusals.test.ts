// Certificate pairs an operator commonly gets wrong, refused with a message that says what to do:
// a key that still has its passphrase, a chain file concatenated in the wrong order.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/shared/logger.js';
import { createCertificateStore } from '../../src/tls/index.js';
import { generateCertificate, removeTempDirs, tempDir, type TestCertificate } from '../helpers/tls-cert.js';

const run = promisify(execFile);

describe('certificate pairs refused at load', () => {
  const logger = createLogger('silent');
  let server: TestCertificate;
  let issuer: TestCertificate;
  let dir: string;
  beforeAll(async () => {
    server = await generateCertificate({ commonName: 'server.test' });
    issuer = await generateCertificate({ commonName: 'issuer.test' });
    dir = tempDir();
  });
  afterAll(() => removeTempDirs());

  it.each([
    ['PKCS#8', ['pkey', '-aes256']],
    ['traditional', ['ec', '-aes256']],
  ])('says a %s key with a passphrase must be stored without one', async (form, args) => {
    const keyPath = path.join(dir, `encrypted-${form.replace('#', '')}.key`);
    await run('openssl', [...args, '-in', server.keyPath, '-passout', 'pass:secret', '-out', keyPath]);
    await expect(
      createCertificateStore({
        certPath: server.certPath,
        keyPath,
        logger,
        variables: { cert: 'HTTP_TLS_CERT', key: 'HTTP_TLS_KEY' },
      }),
    ).rejects.toThrow(`HTTP_TLS_KEY ${keyPath} is encrypted with a passphrase`);
  });

  it("says the server's certificate must come first in a chain file put together the other way round", async () => {
    const certPath = path.join(dir, 'reversed-chain.crt');
    fs.writeFileSync(certPath, issuer.cert + server.cert);
    await expect(createCertificateStore({ certPath, keyPath: server.keyPath, logger })).rejects.toThrow(
      `SMTP_TLS_CERT ${certPath}: the certificate for SMTP_TLS_KEY is number 2 in the file; the server's own certificate must come first`,
    );
  });

  it('takes the chain in the right order, and still calls a key of no certificate in the file a mismatch', async () => {
    const certPath = path.join(dir, 'chain.crt');
    fs.writeFileSync(certPath, server.cert + issuer.cert);
    const store = await createCertificateStore({ certPath, keyPath: server.keyPath, logger });
    expect(store.info().fingerprint256).toBe(server.fingerprint256);
    store.close();
    const other = await generateCertificate({ commonName: 'other.test' });
    await expect(createCertificateStore({ certPath, keyPath: other.keyPath, logger })).rejects.toThrow(
      `SMTP_TLS_KEY ${other.keyPath} does not match the certificate in SMTP_TLS_CERT ${certPath}`,
    );
  });
});
