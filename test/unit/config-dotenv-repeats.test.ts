// A name given twice in a .env file: dotenv takes the last line without a word, so which value the
// gateway runs with depends on where in the file the operator looked.
import { describe, expect, it } from 'vitest';
import { dotenvProblems } from '../../src/config/load.js';

describe('a .env name given twice', () => {
  it('is refused when the values differ, naming both lines and no value', () => {
    const text = [
      'SMTP_ALLOWED_NETWORKS=10.0.0.0/8',
      'ADMIN_TOKEN=first-secret',
      '# later additions',
      'export SMTP_ALLOWED_NETWORKS=10.1.0.0/16',
      'ADMIN_TOKEN="second-secret"',
    ].join('\n');
    const problems = dotenvProblems(text, '.env');
    expect(problems).toEqual([
      '  .env line 4: SMTP_ALLOWED_NETWORKS: set again with another value (also on line 1); dotenv takes the last: keep one',
      '  .env line 5: ADMIN_TOKEN: set again with another value (also on line 2); dotenv takes the last: keep one',
    ]);
    expect(problems.join('\n')).not.toContain('secret');
  });

  it('passes when the value is the same, however it is quoted or spread over lines', () => {
    const text = [
      'LOG_LEVEL=debug',
      "LOG_LEVEL='debug'",
      'SMTP_TLS_KEY="-----BEGIN KEY-----\nabc\n-----END KEY-----"',
      'SMTP_TLS_KEY="-----BEGIN KEY-----\nabc\n-----END KEY-----" # again',
    ].join('\n');
    expect(dotenvProblems(text, '.env')).toEqual([]);
  });

  it('counts the lines of a value that spans lines when naming a later repeat', () => {
    const text = 'SMTP_TLS_KEY="a\nb"\nSMTP_NAME=one\nSMTP_NAME=two\n';
    expect(dotenvProblems(text, '.env')).toEqual([
      '  .env line 4: SMTP_NAME: set again with another value (also on line 3); dotenv takes the last: keep one',
    ]);
  });
});
