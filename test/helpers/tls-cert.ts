// Throwaway self-signed certificates made at test time with the openssl CLI (no key in the repo).
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCertificate {
  dir: string;
  certPath: string;
  keyPath: string;
  cert: string;
  key: string;
  /** As `tls.TLSSocket#getPeerCertificate().fingerprint256` reports it. */
  fingerprint256: string;
}

const created: string[] = [];

/** A new temporary directory, removed by `removeTempDirs()`. */
export function tempDir(name = 'tls'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ses-relay-${name}-`));
  created.push(dir);
  return dir;
}

/** Removes every directory `tempDir()` made in this test file (for afterAll). */
export function removeTempDirs(): void {
  for (const dir of created.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * A P-256 key and a one-day certificate for localhost / 127.0.0.1, written as `<name>.crt` and
 * `<name>.key` into `dir` (a new temporary directory by default). P-256 keeps generation quick.
 */
export async function generateCertificate(
  options: { dir?: string; name?: string; commonName?: string } = {},
): Promise<TestCertificate> {
  const dir = options.dir ?? tempDir();
  const name = options.name ?? 'server';
  const certPath = path.join(dir, `${name}.crt`);
  const keyPath = path.join(dir, `${name}.key`);
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    keyPath,
    '-out',
    certPath,
    '-days',
    '1',
    '-subj',
    `/CN=${options.commonName ?? 'localhost'}`,
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ]);
  const cert = fs.readFileSync(certPath, 'utf8');
  return {
    dir,
    certPath,
    keyPath,
    cert,
    key: fs.readFileSync(keyPath, 'utf8'),
    fingerprint256: new X509Certificate(cert).fingerprint256,
  };
}

/** Replaces a file the way editors and certbot do: write a temporary file, rename it over the old one. */
export function replaceFile(filePath: string, content: string): void {
  const temporary = `${filePath}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  fs.writeFileSync(temporary, content);
  fs.renameSync(temporary, filePath);
}
