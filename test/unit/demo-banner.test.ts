import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { bannerLines, cliCommand, httpBase, shellWord } from '../../src/demo/banner.js';

const config = parseConfig({ HTTP_PORT: '8080', SMTP_PORT: '2525' });
const banner = (input: Partial<Parameters<typeof bannerLines>[0]>) =>
  bannerLines({
    config,
    mode: { kind: 'sink', url: 'http://127.0.0.1:8005' },
    admin: undefined,
    queueStatsCommand: 'cmd',
    ...input,
  }).join('\n');

describe('demo banner', () => {
  it('quotes a shell word only when it needs it', () => {
    expect(shellWord('redis://127.0.0.1:6390')).toBe('redis://127.0.0.1:6390');
    expect(shellWord('{ses-relay}')).toBe("'{ses-relay}'");
    expect(shellWord("it's")).toBe(`'it'\\''s'`);
  });

  it('names the Redis and prefix in the CLI command, but never prints a Redis password', () => {
    expect(cliCommand('redis://127.0.0.1:6390', 'ses-relay', 'queue stats')).toBe(
      'REDIS_URL=redis://127.0.0.1:6390 REDIS_PREFIX=ses-relay npx tsx src/cli/main.ts queue stats',
    );
    const withPassword = cliCommand('redis://:s3cret@redis:6379', '{app}', 'queue stats');
    expect(withPassword).not.toContain('s3cret');
    expect(withPassword).toBe("REDIS_PREFIX='{app}' npx tsx src/cli/main.ts queue stats");
  });

  it('reaches a wildcard HTTP bind on loopback, over HTTPS when a certificate is set', () => {
    expect(httpBase(parseConfig({ HTTP_HOST: '0.0.0.0', HTTP_PORT: '8080' }))).toBe('http://127.0.0.1:8080');
    expect(httpBase(parseConfig({ HTTP_HOST: '::', HTTP_PORT: '8080' }))).toBe('http://[::1]:8080');
  });

  it('names every setting that switched the demo to real SES', () => {
    const text = banner({
      mode: { kind: 'ses', region: 'eu-west-1', because: ['AWS_ACCESS_KEY_ID', 'AWS_PROFILE'] },
    });
    expect(text).toContain(
      'Delivering through REAL Amazon SES (eu-west-1): AWS_ACCESS_KEY_ID, AWS_PROFILE are set.',
    );
    expect(text).toContain('env -u AWS_ACCESS_KEY_ID -u AWS_PROFILE npm run demo');
    expect(text).not.toContain('CAPTURED');
  });

  it('says to remove from .env the settings only .env sets (env -u cannot take them away)', () => {
    const text = banner({
      mode: {
        kind: 'ses',
        region: 'eu-west-1',
        because: ['AWS_ACCESS_KEY_ID', 'AWS_PROFILE'],
        dotenv: { path: '.env', names: ['AWS_ACCESS_KEY_ID'] },
      },
    });
    expect(text).toContain(
      'without them: env -u AWS_PROFILE npm run demo; remove AWS_ACCESS_KEY_ID from .env',
    );
  });

  it("prints generated admin secrets, but not the operator's own", () => {
    const generated = banner({
      admin: {
        token: { generated: 'tok123' },
        basic: { user: 'demo', password: { generated: 'pw456' } },
      },
    });
    expect(generated).toContain('Admin page  http://127.0.0.1:8080/admin ');
    expect(generated).toContain('ADMIN_TOKEN=tok123');
    expect(generated).toContain('http://127.0.0.1:8080/admin/queues/  user demo, password pw456');
    const own = banner({ admin: { token: 'configured', basic: undefined } });
    expect(own).toContain('ADMIN_TOKEN=(your ADMIN_TOKEN)');
    expect(own).not.toContain('/admin/queues/');
  });
});
