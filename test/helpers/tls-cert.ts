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

/** `openssl ca` wants its dates as YYYYMMDDHHMMSSZ. */
const opensslDate = (date: Date) => `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;

/** The least `openssl ca` needs to self-sign a request with given dates. */
const CA_CONFIG = `[ca]
default_ca = test
[test]
database = index.txt
serial = serial
new_certs_dir = .
default_md = sha256
policy = any
unique_subject = no
copy_extensions = copy
[any]
commonName = supplied
`;

/**
 * A P-256 key and a one-day certificate for localhost / 127.0.0.1, written as `<name>.crt` and
 * `<name>.key` into `dir` (a new temporary directory by default). P-256 keeps generation quick.
 * `validity` sets other dates (an expired or not yet valid certificate).
 */
export async function generateCertificate(
  options: { dir?: string; name?: string; commonName?: string; validity?: { from: Date; to: Date } } = {},
): Promise<TestCertificate> {
  const dir = options.dir ?? tempDir();
  const name = options.name ?? 'server';
  const certPath = path.join(dir, `${name}.crt`);
  const keyPath = path.join(dir, `${name}.key`);
  const subject = [
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    keyPath,
    '-subj',
    `/CN=${options.commonName ?? 'localhost'}`,
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ];
  if (options.validity) {
    // `openssl req -x509` only counts days from now; `openssl ca` takes any start and end.
    const ca = tempDir('ca');
    fs.writeFileSync(path.join(ca, 'ca.cnf'), CA_CONFIG);
    fs.writeFileSync(path.join(ca, 'index.txt'), '');
    fs.writeFileSync(path.join(ca, 'serial'), '01\n');
    const request = path.join(ca, 'request.csr');
    await run('openssl', ['req', '-new', ...subject, '-out', request]);
    await run(
      'openssl',
      [
        'ca',
        '-batch',
        '-config',
        'ca.cnf',
        '-selfsign',
        '-keyfile',
        keyPath,
        '-in',
        request,
        '-out',
        certPath,
        '-notext',
        '-startdate',
        opensslDate(options.validity.from),
        '-enddate',
        opensslDate(options.validity.to),
      ],
      { cwd: ca },
    );
  } else {
    await run('openssl', ['req', '-x509', ...subject, '-out', certPath, '-days', '1']);
  }
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
