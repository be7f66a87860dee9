// The files settings name are checked at start-up, all at once, rather than one per restart as each
// role loads its own (the start-up refusal itself: test/integration/cli-start.test.ts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { settingFileProblems } from '../../src/config/index.js';

describe('files named by settings', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-relay-files-'));
  const readable = path.join(dir, 'cert.pem');
  fs.writeFileSync(readable, 'not checked here: the role loading it says what is wrong inside');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const missing = {
    SMTP_TLS_CERT: '/nonexistent/smtp-cert.pem',
    SMTP_TLS_KEY: '/nonexistent/smtp-key.pem',
    SMTP_USERS_FILE: '/nonexistent/users.yaml',
    HTTP_TLS_CERT: '/nonexistent/http-cert.pem',
    HTTP_TLS_KEY: '/nonexistent/http-key.pem',
  };

  it('are each named when they cannot be read, with the reason', () => {
    expect(settingFileProblems({ ...missing, HTTP_TLS_KEY: dir })).toEqual([
      '  SMTP_TLS_CERT: cannot read /nonexistent/smtp-cert.pem (ENOENT)',
      '  SMTP_TLS_KEY: cannot read /nonexistent/smtp-key.pem (ENOENT)',
      '  SMTP_USERS_FILE: cannot read /nonexistent/users.yaml (ENOENT)',
      '  HTTP_TLS_CERT: cannot read /nonexistent/http-cert.pem (ENOENT)',
      `  HTTP_TLS_KEY: cannot read ${dir} (EISDIR)`,
    ]);
  });

  it('pass when they can be read, and are not checked when unset or empty', () => {
    expect(settingFileProblems({ SMTP_TLS_CERT: readable, SMTP_TLS_KEY: ` ${readable} ` })).toEqual([]);
    expect(settingFileProblems({ SMTP_USERS_FILE: '', HTTP_TLS_CERT: '  ' })).toEqual([]);
  });

  it('are checked only for the roles that load them (a worker need not mount the certificates)', () => {
    expect(settingFileProblems({ ...missing, ROLES: 'worker' })).toEqual([]);
    expect(settingFileProblems({ ...missing, ROLES: 'http,worker' })).toEqual([
      '  HTTP_TLS_CERT: cannot read /nonexistent/http-cert.pem (ENOENT)',
      '  HTTP_TLS_KEY: cannot read /nonexistent/http-key.pem (ENOENT)',
    ]);
    // A ROLES the configuration refuses says so itself; no guess at which files it meant.
    expect(settingFileProblems({ ...missing, ROLES: 'mailer' })).toEqual([]);
  });
});
