import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { problemsOf } from '../helpers/config-problems.js';
import { parseConfig } from '../../src/config/index.js';

describe('endpoint URLs', () => {
  it.each(['SES_ENDPOINT', 'SQS_ENDPOINT', 'SQS_QUEUE_URL'])(
    'refuses %s without http:// or https:// (URL.canParse reads "localhost:" as a scheme)',
    (key) => {
      for (const value of ['localhost:6472', 'email.eu-west-1.amazonaws.com', 'ftp://host/x', 'http:host']) {
        expect(problemsOf({ [key]: value })).toContain(
          `${key}: expected a URL starting with http:// or https:// (got "${value}")`,
        );
      }
    },
  );

  it('takes http:// and https:// URLs', () => {
    const config = parseConfig({
      SES_ENDPOINT: 'http://localhost:6472',
      SQS_ENDPOINT: 'https://sqs.eu-west-1.amazonaws.com',
      SQS_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/ses-feedback',
    });
    expect(config.SES_ENDPOINT).toBe('http://localhost:6472');
    expect(config.SQS_QUEUE_URL).toBe('https://sqs.eu-west-1.amazonaws.com/123456789012/ses-feedback');
    expect(parseConfig({ SES_ENDPOINT: 'HTTPS://email.us-east-1.amazonaws.com' }).SES_ENDPOINT).toBe(
      'HTTPS://email.us-east-1.amazonaws.com',
    );
  });
});

describe('placeholder secrets', () => {
  it.each(['ADMIN_TOKEN', 'METRICS_TOKEN', 'ADMIN_PASSWORD'])(
    'refuses %s still holding the example Secret placeholder, without echoing it',
    (key) => {
      const message = problemsOf({ ADMIN_USER: 'ops', [key]: 'REPLACE_WITH_A_LONG_RANDOM_TOKEN' });
      expect(message).toContain(`${key}: holds the placeholder of the example Secret (REPLACE_WITH_…)`);
      expect(message).not.toContain('LONG_RANDOM');
    },
  );

  it('refuses the placeholder read from a _FILE secret too, and takes a real token', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-relay-config-'));
    const file = path.join(dir, 'ADMIN_TOKEN');
    fs.writeFileSync(file, 'REPLACE_WITH_A_LONG_RANDOM_TOKEN\n');
    expect(() => parseConfig({ ADMIN_TOKEN_FILE: file })).toThrow(/ADMIN_TOKEN: holds the placeholder/);
    fs.rmSync(dir, { recursive: true });
    expect(parseConfig({ ADMIN_TOKEN: '3f9a1c0d8e7b6a5f' }).ADMIN_TOKEN).toBe('3f9a1c0d8e7b6a5f');
  });
});
