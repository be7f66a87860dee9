import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli, runMainCli } from '../helpers/cli-run.js';

describe('ses-relay usage errors and help (a real process)', () => {
  it('exits 0 for --help, 2 for usage and configuration errors, 1 when Redis is unreachable', async () => {
    const [help, unknown, missing, invalid, config, neither, jsonToStdout, noRedis] = await Promise.all([
      runCli(['suppression', 'import', '--help']),
      runCli(['queue', 'stats', '--bogus']),
      runCli(['suppression', 'check']),
      runCli(['suppression', 'list', '--limit', 'many']),
      runCli(['queue', 'stats'], { REDIS_PREFIX: 'has spaces' }),
      runCli(['suppression', 'import']),
      runCli(['suppression', 'export', '--json']),
      runCli(['suppression', 'check', 'a@example.com'], { REDIS_URL: 'redis://127.0.0.1:1' }),
    ]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: ses-relay suppression import [options] [file]');
    expect(help.stdout).toContain('--from-ses');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("error: unknown option '--bogus'");
    expect(unknown.stderr).toContain('(add --help for usage)');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("error: missing required argument 'address'");
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain(
      "option '--limit <n>' argument 'many' is invalid. expected a positive whole number.",
    );
    expect(config.code).toBe(2);
    expect(config.stderr).toContain('Invalid configuration:');
    expect(config.stderr).toContain('REDIS_PREFIX');
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain('give either a file (or - for stdin) or --from-ses');
    expect(jsonToStdout.code).toBe(2);
    expect(jsonToStdout.stderr).toContain('--json needs --out or --to-ses');
    expect(noRedis.code).toBe(1);
    expect(noRedis.stderr).toMatch(/^ses-relay: cannot reach Redis at 127\.0\.0\.1:1 \(REDIS_URL\)/m);
  });

  it('prints the package version for --version, exit 0, through the real entry', async () => {
    const { version } = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { version: string };
    const [long, short] = await Promise.all([runMainCli(['--version']), runMainCli(['-V'])]);
    expect(long).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
    expect(short).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it('exits 1 with one line, not the usage text, when user hash is piped an empty password', async () => {
    const result = await runMainCli(['user', 'hash'], {}, '\n');
    expect(result).toMatchObject({ code: 1, stdout: '', stderr: 'error: refusing an empty password\n' });
  });
});
