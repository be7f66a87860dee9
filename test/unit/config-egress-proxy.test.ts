import { describe, expect, it } from 'vitest';
import { problemsOf } from '../helpers/config-problems.js';
import { parseConfig } from '../../src/config/index.js';

describe('egress proxy settings', () => {
  it.each(['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'])(
    'refuses a %s that is not an http(s) URL',
    (key) => {
      for (const value of ['proxy.corp:3128', 'socks5://proxy.corp:1080', 'http//proxy.corp']) {
        expect(problemsOf({ [key]: value })).toContain(
          `${key}: expected a URL starting with http:// or https:// (got "${value}")`,
        );
      }
    },
  );

  it('never echoes the password of a malformed proxy URL', () => {
    const message = problemsOf({ HTTPS_PROXY: 'http://relay:s3cret@proxy corp:3128' });
    expect(message).toContain('HTTPS_PROXY: expected a URL');
    expect(message).not.toContain('s3cret');
  });

  it('takes proxy URLs with credentials, NO_PROXY as given, and empty values as unset', () => {
    const config = parseConfig({
      HTTPS_PROXY: 'http://relay:s3cret@proxy.corp:3128',
      http_proxy: 'https://proxy.corp',
      NO_PROXY: '.internal, 10.0.0.0/8',
      HTTP_PROXY: '',
    });
    expect(config.HTTPS_PROXY).toBe('http://relay:s3cret@proxy.corp:3128');
    expect(config.http_proxy).toBe('https://proxy.corp');
    expect(config.HTTP_PROXY).toBeUndefined();
    expect(config.NO_PROXY).toBe('.internal, 10.0.0.0/8');
  });
});
