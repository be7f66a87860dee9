import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/doctor/index.js';
import { runCli } from '../helpers/cli-run.js';
import { startFakeSes, type FakeSes } from '../helpers/fake-ses.js';
import { startForwardProxy, type ForwardProxy } from '../helpers/forward-proxy.js';

const CREDENTIALS = 'relay:s3cret';

describe('ses-relay doctor behind an egress proxy (a real process)', () => {
  let ses: FakeSes;
  let proxy: ForwardProxy;
  beforeAll(async () => {
    [ses, proxy] = await Promise.all([startFakeSes(), startForwardProxy()]);
    proxy.credentials = CREDENTIALS;
  });
  afterAll(async () => {
    await Promise.all([ses.stop(), proxy.stop()]);
  });
  beforeEach(() => {
    proxy.requests.length = 0;
  });

  const sesAccount = async (env: Record<string, string>) => {
    const result = await runCli(['doctor', '--json'], {
      REDIS_PREFIX: 't-cli-doctor-proxy',
      SES_ENDPOINT: ses.url,
      ...env,
    });
    const report = JSON.parse(result.stdout) as { results: CheckResult[] };
    return { result, account: report.results.find((r) => r.check === 'ses.account')! };
  };

  it('asks SES through the proxy and names it by host:port, never with its credentials', async () => {
    const { result, account } = await sesAccount({ http_proxy: proxy.url(CREDENTIALS) });
    expect(account.status).toBe('ok');
    expect(account.message).toMatch(
      new RegExp(`max 14 recipients/s.* \\(through the egress proxy 127\\.0\\.0\\.1:${proxy.port}\\)$`),
    );
    expect(proxy.passed('GET').some((r) => r.target === `${ses.url}/v2/email/account`)).toBe(true);
    expect(result.stdout + result.stderr).not.toContain('s3cret');
  });

  it('says so when the proxy refuses, and when NO_PROXY sends SES calls directly', async () => {
    const refused = await sesAccount({ HTTP_PROXY: proxy.url('relay:wrong') });
    expect(refused.account.status).toBe('fail');
    expect(refused.account.message).toContain('(HTTP 407 Proxy Authentication Required)');
    expect(refused.account.fix).toContain('http://user:password@host:port');
    expect(refused.account.message).toContain(`(through the egress proxy 127.0.0.1:${proxy.port})`);
    expect(refused.result.stdout).not.toContain('wrong');
    const direct = await sesAccount({ HTTP_PROXY: proxy.url(CREDENTIALS), NO_PROXY: '127.0.0.1' });
    expect(direct.account.status).toBe('ok');
    expect(direct.account.message).toMatch(/\(directly: NO_PROXY names 127\.0\.0\.1:\d+\)$/);
  });

  it('stops at start-up, with the usual message and exit code 2, on a malformed proxy URL', async () => {
    const result = await runCli(['doctor'], { HTTPS_PROXY: 'proxy.corp:3128' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'HTTPS_PROXY: expected a URL starting with http:// or https:// (got "proxy.corp:3128")',
    );
  });
});
