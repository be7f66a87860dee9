import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { problemsOf } from '../helpers/config-problems.js';
import { hasAwsCredentialHints, loadConfig, parseConfig, unknownSettings } from '../../src/config/index.js';
import { dotenvProblems, hidePassword } from '../../src/config/load.js';

describe('empty values', () => {
  it('mean the default, as if the variable were not set', () => {
    const config = parseConfig({
      SMTP_HOST: '',
      SMTP_PORT: '',
      SMTP_NAME: ' ',
      HTTP_HOST: '',
      HTTP_PORT: '',
      REDIS_URL: '',
      REDIS_PREFIX: '',
      ROLES: '',
      LOG_LEVEL: '',
      SMTP_MAX_MESSAGE_BYTES: '',
      SES_RATE_FACTOR: '',
      SHUTDOWN_TIMEOUT: '',
      SUPPRESSION_ACTION: '',
      SMTP_TLS_PORT: '',
    });
    const defaults = parseConfig({});
    for (const key of [
      'SMTP_HOST',
      'SMTP_PORT',
      'SMTP_NAME',
      'HTTP_HOST',
      'HTTP_PORT',
      'REDIS_URL',
      'REDIS_PREFIX',
      'ROLES',
      'LOG_LEVEL',
      'SMTP_MAX_MESSAGE_BYTES',
      'SES_RATE_FACTOR',
      'SHUTDOWN_TIMEOUT',
      'SUPPRESSION_ACTION',
      'SMTP_TLS_PORT',
    ] as const) {
      expect(config[key], key).toEqual(defaults[key]);
    }
    expect(config.HTTP_HOST).toBe('127.0.0.1');
    expect(config.HTTP_PORT).toBe(8080);
  });

  it('are an empty list for list settings', () => {
    const config = parseConfig({ SMTP_ALLOWED_NETWORKS: '', COMPLAINT_IGNORED_TYPES: '' });
    expect(config.SMTP_ALLOWED_NETWORKS).toEqual([]);
    expect(config.COMPLAINT_IGNORED_TYPES).toEqual([]);
  });
});

describe('messages for bad values', () => {
  it('give the allowed range of numbers', () => {
    const message = problemsOf({ SMTP_PORT: '70000', WORKER_CONCURRENCY: '2', SES_RATE_FACTOR: '1.5' });
    expect(message).toContain('SMTP_PORT: expected a whole number from 0 to 65535 (got "70000")');
    expect(message).toContain('WORKER_CONCURRENCY: expected a whole number from 4 to 1000');
    expect(message).toContain('SES_RATE_FACTOR: expected a number above 0 and at most 1');
  });

  it('refuse a bounce rule for a bounce type SES does not have', () => {
    expect(problemsOf({ BOUNCE_RULES: 'Transeint=soft' })).toContain(
      '"Transeint=soft" is not Type[/SubType]=',
    );
    expect(parseConfig({ BOUNCE_RULES: 'transient/Foo=record' }).BOUNCE_RULES).toEqual({
      'transient/Foo': 'record',
    });
  });

  it('refuse a fractional implicit-TLS port', () => {
    expect(problemsOf({ SMTP_TLS_PORT: '465.5' })).toContain('SMTP_TLS_PORT: expected a port number');
  });

  it('never echo the password of a mistyped URL', () => {
    const message = problemsOf({ REDIS_URL: 'rediss//:S3cr3tpw@redis.example:6379' });
    expect(message).toContain('REDIS_URL');
    expect(message).not.toContain('S3cr3tpw');
    expect(hidePassword('redis://user:pw@host:6379')).toBe('redis://***@host:6379');
    expect(hidePassword('app@example.com')).toBe('app@example.com');
    // An unescaped "@" or "/" in the password leaves nothing of it in view.
    expect(hidePassword('redis-sentinel://:p@ss@h/relay')).toBe('redis-sentinel://***@h/relay');
    expect(hidePassword('redis-sentinel://:pa/ss@h/relay')).toBe('redis-sentinel://***@h/relay');
  });

  it('refuse an empty secret file instead of turning its protection off', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-relay-config-'));
    const empty = path.join(dir, 'token');
    fs.writeFileSync(empty, '\n');
    expect(problemsOf({ METRICS_TOKEN_FILE: empty })).toContain(`METRICS_TOKEN_FILE: ${empty} is empty`);
    fs.rmSync(dir, { recursive: true });
  });
});

describe('REDIS_URL', () => {
  it.each([
    'redis://127.0.0.1:6379',
    'redis://:pw@redis.internal:6379/2',
    'rediss://redis.example.com:6380',
    'unix:///run/redis/redis.sock',
    'redis-sentinel://10.0.0.1:26379,10.0.0.2:26379/mymaster',
    'redis-cluster://10.0.0.1:6379,10.0.0.2:6379',
  ])('accepts %s', (url) => {
    expect(parseConfig({ REDIS_URL: url }).REDIS_URL).toBe(url);
  });

  it.each([
    'http://redis.example:6379',
    'redis://127.0.0.1:6379/cache',
    'redis://',
    'unix://',
    'localhost:6379',
  ])('refuses %s', (url) => {
    expect(problemsOf({ REDIS_URL: url })).toContain('REDIS_URL: expected redis://host:port[/db]');
  });

  it.each([
    ['redis-cluster://[::1]:41701', undefined],
    ['redis-cluster://127.0.0.1:notaport', 'the host has no valid port'],
    ['redis-cluster://h1:7000,,h2:7001', 'host 2 of 3 is empty'],
    ['redis-sentinel://h:26379/relay/0', 'only one path segment may follow the hosts'],
    ['redis-sentinel://:S3cr3t@pw@h/relay', 'more than one "@"'],
  ])('checks every host of a multi-host URL: %s', (url, problem) => {
    if (problem === undefined) {
      expect(parseConfig({ REDIS_URL: url }).REDIS_URL).toBe(url);
      return;
    }
    const message = problemsOf({ REDIS_URL: url });
    expect(message).toContain(`REDIS_URL: ${url.split(':')[0]}:// URL: ${problem}`);
    expect(message).not.toContain('S3cr3t');
    expect(message).not.toContain('pw@');
  });

  it('takes Sentinel credentials only with a Sentinel URL', () => {
    const config = parseConfig({
      REDIS_URL: 'redis-sentinel://relay:pw@h/relay',
      REDIS_SENTINEL_USERNAME: 'watcher',
      REDIS_SENTINEL_PASSWORD: 'sentinel-pw',
    });
    expect([config.REDIS_SENTINEL_USERNAME, config.REDIS_SENTINEL_PASSWORD]).toEqual([
      'watcher',
      'sentinel-pw',
    ]);
    expect(problemsOf({ REDIS_SENTINEL_PASSWORD: 'sentinel-pw' })).toContain(
      'REDIS_SENTINEL_PASSWORD: REDIS_SENTINEL_USERNAME and REDIS_SENTINEL_PASSWORD need a redis-sentinel:// REDIS_URL',
    );
  });

  it('is read from REDIS_URL_FILE (a mounted secret), which is no unknown setting', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-relay-config-'));
    const file = path.join(dir, 'redis-url');
    fs.writeFileSync(file, 'rediss://:S3cr3tpw@redis.example:6380\n');
    expect(parseConfig({ REDIS_URL_FILE: file }).REDIS_URL).toBe('rediss://:S3cr3tpw@redis.example:6380');
    expect(unknownSettings({ REDIS_URL_FILE: file })).toEqual([]);
    fs.writeFileSync(file, 'redis://:S3cr3tpw@redis.example:6379/cache');
    const message = problemsOf({ REDIS_URL_FILE: file });
    expect(message).toContain('REDIS_URL: expected redis://host:port[/db]');
    expect(message).toContain('(got "redis://***@redis.example:6379/cache")');
    expect(message).not.toContain('S3cr3tpw');
    fs.rmSync(dir, { recursive: true });
  });
});

describe('.env files', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('names the lines dotenv would skip', () => {
    const text = [
      '# comment',
      '',
      'SMTP_PORT=2526',
      'SMTP_SOCKET_TIMEOUT 5s',
      'stray',
      '=value',
      'export A_B=1',
    ];
    expect(dotenvProblems(text.join('\n'), '.env')).toEqual([
      '  .env line 4: expected NAME=value',
      '  .env line 5: expected NAME=value',
      '  .env line 6: expected NAME=value',
    ]);
  });

  it('lets a quoted value span lines', () => {
    const text = 'SMTP_TLS_KEY="-----BEGIN KEY-----\nabc def\n-----END KEY-----" # key\nLOG_LEVEL=debug\n';
    expect(dotenvProblems(text, '.env')).toEqual([]);
    expect(parseDotenv(text).SMTP_TLS_KEY).toBe('-----BEGIN KEY-----\nabc def\n-----END KEY-----');
  });

  it('names a value dotenv would cut at an unquoted #, without echoing it', () => {
    const text = [
      'ADMIN_TOKEN=Xk9v2#Lq7pR4sT8uW1yZ3bN6',
      'METRICS_TOKEN=#Lq7pR4sT8uW1yZ3bN6',
      'SMTP_NAME=relay.example.com # a comment',
      'SMTP_HOST=0.0.0.0\t# a comment',
      'HTTP_HOST= # nothing but a comment',
      'ADMIN_PASSWORD="pa#ss"',
      "SUPPRESSION_HASH_KEY='k#y' # quoted",
      'export REDIS_PREFIX=a#b',
    ];
    const problems = dotenvProblems(text.join('\n'), '.env');
    expect(problems).toEqual([
      '  .env line 1: ADMIN_TOKEN: quote a value that contains # (unquoted, dotenv cuts it at the #)',
      '  .env line 2: METRICS_TOKEN: quote a value that contains # (unquoted, dotenv cuts it at the #)',
      '  .env line 8: REDIS_PREFIX: quote a value that contains # (unquoted, dotenv cuts it at the #)',
    ]);
    expect(problems.join('\n')).not.toContain('Lq7p');
  });

  it('reports a quote never closed, and checks the lines after it', () => {
    const text = 'SMTP_NAME="relay.example.com\nSMTP_PORT 2526\nLOG_LEVEL=debug\n';
    // dotenv keeps the quote in the value and reads the next lines on their own.
    expect(parseDotenv(text)).toEqual({ SMTP_NAME: '"relay.example.com', LOG_LEVEL: 'debug' });
    expect(dotenvProblems(text, '.env')).toEqual([
      '  .env line 1: SMTP_NAME: unterminated quote ("): dotenv keeps it in the value',
      '  .env line 2: expected NAME=value',
    ]);
    // A later quote closes the value only when nothing but a comment follows it, as dotenv reads it.
    const closedTooLate = 'SMTP_NAME="relay\nADMIN_USER="ops"\nstray\n';
    expect(parseDotenv(closedTooLate)).toMatchObject({ SMTP_NAME: '"relay', ADMIN_USER: 'ops' });
    expect(dotenvProblems(closedTooLate, '.env')).toEqual([
      '  .env line 1: SMTP_NAME: unterminated quote ("): dotenv keeps it in the value',
      '  .env line 3: expected NAME=value',
    ]);
  });

  it('refuses a DOTENV_PATH that names no file, and reads none when it is empty', () => {
    vi.stubEnv('DOTENV_PATH', '/nonexistent/ses-relay.env');
    expect(() => loadConfig()).toThrow('DOTENV_PATH: cannot read /nonexistent/ses-relay.env (ENOENT)');
    vi.stubEnv('DOTENV_PATH', '');
    expect(loadConfig().SMTP_PORT).toBeTypeOf('number');
  });

  it('reports its malformed lines with the values', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-relay-config-'));
    const file = path.join(dir, 'relay.env');
    fs.writeFileSync(file, 'SMTP_PORT=70000\nLOG_LEVEL debug\n');
    vi.stubEnv('DOTENV_PATH', file);
    vi.stubEnv('SMTP_PORT', undefined);
    expect(() => loadConfig()).toThrow(
      new RegExp(`${file} line 2: expected NAME=value\\n  SMTP_PORT: expected a whole number`),
    );
    fs.rmSync(dir, { recursive: true });
  });
});

describe('unknown settings', () => {
  it('names look-alikes of the gateway settings, with the closest real one', () => {
    const env = {
      SMTP_MAX_MESAGE_BYTES: '1MB',
      SES_CONFIGURATIONSET: 'x',
      REDIS_PREFIXX: 'a',
      SMTP_PORT: '25',
      AWS_PROFILE: 'prod',
      AWS_SDK_LOAD_CONFIG: '1',
      ADMIN_TOKEN_FILE: '/run/secrets/admin',
      DOTENV_PATH: '',
      REDIS_PORT: 'tcp://10.0.0.9:6379',
      REDIS_SERVICE_HOST: '10.0.0.9',
      REDIS_PORT_6379_TCP_ADDR: '10.0.0.9',
      HOME: '/root',
      SMTPX: '1',
      HTTP_PROXY_URL: 'http://proxy',
      // Conventions of other tools that share a first word with the proxy variables.
      NO_COLOR: '1',
      HTTPS_CA_FILE: '/etc/ssl/ca.pem',
      NO_PROXY: 'localhost',
    };
    expect(unknownSettings(env)).toEqual([
      { name: 'HTTP_PROXY_URL', suggestion: undefined },
      { name: 'REDIS_PREFIXX', suggestion: 'REDIS_PREFIX' },
      { name: 'SES_CONFIGURATIONSET', suggestion: 'SES_CONFIGURATION_SET' },
      { name: 'SMTP_MAX_MESAGE_BYTES', suggestion: 'SMTP_MAX_MESSAGE_BYTES' },
    ]);
  });

  // A typo in the first word or in a one-word setting: METRIC_TOKEN left /metrics open, ROLE=worker
  // ran all three roles, without a word.
  it.each([
    ['METRIC_TOKEN', 'METRICS_TOKEN'],
    ['SMPT_PORT', 'SMTP_PORT'],
    ['RDIS_URL', 'REDIS_URL'],
    ['ROLE', 'ROLES'],
    ['LOGLEVEL', 'LOG_LEVEL'],
    ['smtp_port', 'SMTP_PORT'],
    ['ADMN_TOKEN', 'ADMIN_TOKEN'],
  ])('names %s, a near miss of %s outside the families', (name, suggestion) => {
    expect(unknownSettings({ [name]: '2525', PATH: '/usr/bin', HOME: '/root' })).toEqual([
      { name, suggestion },
    ]);
  });

  it('takes a <SERVICE>_PORT for a service link only by its tcp:// value', () => {
    expect(
      unknownSettings({ SMPT_PORT: 'tcp://10.0.0.9:25', RDIS_PORT_6379_TCP: 'tcp://10.0.0.9:6379' }),
    ).toEqual([]);
  });

  it('leaves alone what shells, Node, npm, CI, Docker and Kubernetes set', () => {
    const names = `
      PATH HOME HOSTNAME PWD OLDPWD SHELL SHLVL TERM LANG LANGUAGE LC_ALL USER LOGNAME TZ MAIL
      EDITOR PAGER DISPLAY TMPDIR HOST PORT DEBUG _ NODE_ENV NODE_OPTIONS NODE_VERSION
      NODE_EXTRA_CA_CERTS NODE_PATH YARN_VERSION npm_config_cache npm_lifecycle_event
      npm_package_name npm_execpath INIT_CWD KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT
      KUBERNETES_PORT KUBERNETES_PORT_443_TCP KUBERNETES_PORT_443_TCP_ADDR CI GITHUB_ACTIONS
      FORCE_COLOR NO_COLOR SSL_CERT_FILE SSH_AUTH_SOCK XDG_RUNTIME_DIR COLORTERM TERM_PROGRAM
      UV_THREADPOOL_SIZE VITEST FTP_PROXY ftp_proxy ALL_PROXY all_proxy AWS_PROFILE
      AWS_DEFAULT_REGION JAVA_HOME
    `
      .split(/\s+/)
      .filter(Boolean);
    expect(unknownSettings(Object.fromEntries(names.map((name) => [name, 'x'])))).toEqual([]);
  });
});

describe('AWS credential hints (the demo chooses real SES by them)', () => {
  it('count the access key from its file too', () => {
    expect(hasAwsCredentialHints({ AWS_ACCESS_KEY_ID_FILE: '/run/secrets/aws-key' })).toBe(true);
    expect(hasAwsCredentialHints({ AWS_ACCESS_KEY_ID_FILE: '', AWS_REGION: 'eu-west-1' })).toBe(false);
  });
});
