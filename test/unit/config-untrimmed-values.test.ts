// Values as a CRLF env file (`docker run --env-file`) or a Secret with a trailing newline give them:
// read as every other setting is read, and echoed readably when refused.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { problemsOf } from '../helpers/config-problems.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-relay-untrimmed-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('settings that take one word of a set', () => {
  it('take it around white space and in any case, as booleans and ROLES do', () => {
    const config = parseConfig({ LOG_LEVEL: 'debug\r', SUPPRESSION_ACTION: 'Drop\n' });
    expect(config.LOG_LEVEL).toBe('debug');
    expect(config.SUPPRESSION_ACTION).toBe('drop');
    expect(parseConfig({ LOG_LEVEL: 'WARN' }).LOG_LEVEL).toBe('warn');
  });

  it('still refuse a word outside the set, naming the setting', () => {
    expect(problemsOf({ LOG_LEVEL: 'loud' })).toMatch(/LOG_LEVEL: .*"info".* \(got "loud"\)/);
  });
});

describe('a refused value', () => {
  it('is echoed with its control characters written out', () => {
    const message = problemsOf({ SMTP_PORT: '70000\r', SMTP_ALLOWED_SENDERS: 'nonsense\t' });
    expect(message).toContain('SMTP_PORT: expected a whole number from 0 to 65535 (got "70000\\r")');
    expect(message).toContain('(got "nonsense\\x09")');
    // eslint-disable-next-line no-control-regex
    expect(message).not.toMatch(/[\x00-\x09\x0b-\x1f]/);
  });
});

describe('secrets from files', () => {
  it('read the file a _FILE value names around white space', () => {
    const file = path.join(dir, 'admin-token');
    fs.writeFileSync(file, 'token-from-file\n');
    expect(parseConfig({ ADMIN_TOKEN_FILE: `${file}\r` }).ADMIN_TOKEN).toBe('token-from-file');
  });

  it('take a value of only white space beside a _FILE as not set', () => {
    const file = path.join(dir, 'metrics-token');
    fs.writeFileSync(file, 'metrics-secret\r\n');
    expect(parseConfig({ METRICS_TOKEN: ' ', METRICS_TOKEN_FILE: file }).METRICS_TOKEN).toBe(
      'metrics-secret',
    );
  });
});
