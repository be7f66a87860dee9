// The listener's certificate (SMTP_TLS_CERT / SMTP_TLS_KEY): loaded and checked at start-up, reloaded
// when either file changes, so a renewed certificate is served from the next handshake on without a
// restart. A reload that fails (half-written file, key and certificate out of step) keeps the old one,
// and so does a reload to a certificate outside its validity period while the old one is still valid.
// At start-up an expired certificate is logged, not refused: many SMTP clients do not verify, and
// a listener that will not start takes their mail down with it.
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import fs from 'node:fs/promises';
import tls from 'node:tls';
import { errorMessage, RelayError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { serialize, watchFiles } from './watch-files.js';

/** TLS 1.0 and 1.1 are deprecated (RFC 8996); smtp-server's own default would still offer them. */
export const TLS_MIN_VERSION = 'TLSv1.2' as const;
/** A certificate this close to its end is logged as a warning at every load. */
const EXPIRY_WARNING_MS = 14 * 24 * 60 * 60 * 1000;

export interface TlsMaterial {
  key: string;
  cert: string;
  minVersion: typeof TLS_MIN_VERSION;
}

export interface CertificateInfo {
  subject: string;
  fingerprint256: string;
  validFrom: Date;
  validTo: Date;
}

export interface CertificateStore {
  /** The context for the next handshake. */
  context(): tls.SecureContext;
  /** The PEM key and certificate, for APIs that build their own context (smtp-server's default). */
  options(): TlsMaterial;
  info(): CertificateInfo;
  /** Called after each successful reload; returns a function that unsubscribes. */
  onChange(listener: (material: TlsMaterial) => void): () => void;
  /** Reads both files again (SIGHUP). Never rejects: returns false and keeps the old pair on failure. */
  reload(): Promise<boolean>;
  close(): void;
}

interface Loaded {
  material: TlsMaterial;
  context: tls.SecureContext;
  info: CertificateInfo;
  digest: string;
}

async function readPem(filePath: string, variable: string): Promise<string> {
  try {
    return await fs.readFile(filePath, 'utf8');
  } catch (err) {
    throw new RelayError('CONFIG_INVALID', `${variable} ${filePath} cannot be read: ${errorMessage(err)}`);
  }
}

/** A PEM key encrypted with a passphrase: PKCS#8 or the traditional OpenSSL header. */
const ENCRYPTED_KEY = /-----BEGIN ENCRYPTED PRIVATE KEY-----|^Proc-Type: 4,ENCRYPTED/m;
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * Where in a chain file the certificate of `key` is, when it is not first (a chain concatenated in
 * the wrong order); undefined when none is, or a block cannot be read.
 */
function chainPosition(cert: string, key: ReturnType<typeof createPrivateKey>): number | undefined {
  const blocks = cert.match(PEM_CERTIFICATE) ?? [];
  for (let index = 1; index < blocks.length; index++) {
    try {
      if (new X509Certificate(blocks[index]!).checkPrivateKey(key)) return index;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The settings that named the pair, so a message says which variable to fix. */
export interface CertificateVariables {
  cert: string;
  key: string;
}

const SMTP_TLS_VARIABLES: CertificateVariables = { cert: 'SMTP_TLS_CERT', key: 'SMTP_TLS_KEY' };

/** Reads and checks a key and certificate pair; throws a RelayError that says which file is wrong. */
export async function loadCertificatePair(
  certPath: string,
  keyPath: string,
  names: CertificateVariables = SMTP_TLS_VARIABLES,
): Promise<Loaded> {
  // Both are read at once; when both fail, the certificate's error is the one reported, every time.
  const [certRead, keyRead] = await Promise.allSettled([
    readPem(certPath, names.cert),
    readPem(keyPath, names.key),
  ]);
  if (certRead.status === 'rejected') throw certRead.reason;
  if (keyRead.status === 'rejected') throw keyRead.reason;
  const [cert, key] = [certRead.value, keyRead.value];
  const invalid = (message: string) => new RelayError('CONFIG_INVALID', message);
  let x509: X509Certificate;
  try {
    // The first certificate of a chain file is the server's own; the rest are intermediates.
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw invalid(`${names.cert} ${certPath} is not a PEM certificate: ${errorMessage(err)}`);
  }
  // OpenSSL's own words for a key it was given no passphrase for ("interrupted or cancelled") do
  // not say what to do; the gateway takes no passphrase setting, so the key must be stored without one.
  if (ENCRYPTED_KEY.test(key)) {
    throw invalid(
      `${names.key} ${keyPath} is encrypted with a passphrase, which the gateway cannot be given: ` +
        `store it unencrypted (openssl pkey -in <key> -out <new key>) and readable only by the gateway`,
    );
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw invalid(`${names.key} ${keyPath} is not an unencrypted PEM private key: ${errorMessage(err)}`);
  }
  if (!x509.checkPrivateKey(privateKey)) {
    const position = chainPosition(cert, privateKey);
    throw invalid(
      position === undefined
        ? `${names.key} ${keyPath} does not match the certificate in ${names.cert} ${certPath}`
        : `${names.cert} ${certPath}: the certificate for ${names.key} is number ${position + 1} in the file; ` +
            `the server's own certificate must come first, then the intermediates`,
    );
  }
  const material: TlsMaterial = { key, cert, minVersion: TLS_MIN_VERSION };
  let context: tls.SecureContext;
  try {
    context = tls.createSecureContext(material);
  } catch (err) {
    throw invalid(`${names.cert} ${certPath} / ${names.key} ${keyPath} cannot be used: ${errorMessage(err)}`);
  }
  return {
    material,
    context,
    info: {
      subject: x509.subject,
      fingerprint256: x509.fingerprint256,
      validFrom: new Date(x509.validFrom),
      validTo: new Date(x509.validTo),
    },
    digest: createHash('sha256').update(cert).update('\0').update(key).digest('hex'),
  };
}

function certificateFields(info: CertificateInfo) {
  return {
    subject: info.subject.replace(/\n/g, ', '),
    fingerprint256: info.fingerprint256,
    validFrom: info.validFrom.toISOString(),
    validTo: info.validTo.toISOString(),
  };
}

/** Whether clients that check dates would take the certificate now. */
export function isCurrentlyValid(info: CertificateInfo, now = Date.now()): boolean {
  return info.validFrom.getTime() <= now && now <= info.validTo.getTime();
}

function logLoaded(logger: Logger, info: CertificateInfo, event: string): void {
  const fields = certificateFields(info);
  logger.info(fields, event);
  const remainingMs = info.validTo.getTime() - Date.now();
  if (info.validFrom.getTime() > Date.now()) logger.error(fields, 'tls.cert.not_yet_valid');
  if (remainingMs <= 0) logger.error(fields, 'tls.cert.expired');
  else if (remainingMs < EXPIRY_WARNING_MS) logger.warn(fields, 'tls.cert.expires_soon');
}

export interface CertificateStoreOptions {
  certPath: string;
  keyPath: string;
  logger: Logger;
  /** The settings that named the files (SMTP_TLS_CERT/KEY unless given). */
  variables?: CertificateVariables;
  debounceMs?: number;
}

/** Loads the pair (rejecting with a clear RelayError when it is unusable) and starts watching it. */
export async function createCertificateStore(options: CertificateStoreOptions): Promise<CertificateStore> {
  const { certPath, keyPath, logger } = options;
  let current = await loadCertificatePair(certPath, keyPath, options.variables);
  logLoaded(logger, current.info, 'tls.cert.loaded');
  const listeners = new Set<(material: TlsMaterial) => void>();

  const load = async (force: boolean): Promise<boolean> => {
    try {
      const next = await loadCertificatePair(certPath, keyPath, options.variables);
      if (!force && next.digest === current.digest) return true;
      // A renewal gone wrong (an old backup restored, a clock-skewed issuer) must not replace a
      // certificate clients still accept; one that has expired is replaced by anything loadable.
      if (!isCurrentlyValid(next.info) && isCurrentlyValid(current.info)) {
        logger.error(
          { certPath, keyPath, refused: certificateFields(next.info), kept: certificateFields(current.info) },
          'tls.cert.reload_refused',
        );
        return false;
      }
      current = next;
      logLoaded(logger, current.info, 'tls.cert.reloaded');
    } catch (err) {
      // Certificate and key are often replaced one after the other; the second write reloads again.
      logger.error({ certPath, keyPath, err: errorMessage(err) }, 'tls.cert.reload_failed');
      return false;
    }
    for (const listener of listeners) {
      try {
        listener(current.material);
      } catch (err) {
        logger.error({ err: errorMessage(err) }, 'tls.cert.listener_failed');
      }
    }
    return true;
  };
  const reload = serialize(load);
  const watch = watchFiles([certPath, keyPath], () => void reload(false), {
    logger,
    debounceMs: options.debounceMs,
  });

  return {
    context: () => current.context,
    options: () => current.material,
    info: () => current.info,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    reload: () => reload(true),
    close() {
      watch.close();
      listeners.clear();
    },
  };
}
