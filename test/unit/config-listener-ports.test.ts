// Ports two listeners of one process would both ask for: refused with the other bad values, rather
// than failing at start-up with an EADDRINUSE that blames "another process".
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { problemsOf } from '../helpers/config-problems.js';

const TLS = { SMTP_TLS_CERT: '/etc/tls/tls.crt', SMTP_TLS_KEY: '/etc/tls/tls.key' };

describe('listener ports', () => {
  it('refuses an implicit-TLS port that is SMTP_PORT too', () => {
    expect(problemsOf({ ...TLS, SMTP_PORT: '2525', SMTP_TLS_PORT: '2525' })).toContain(
      'SMTP_TLS_PORT: SMTP_TLS_PORT (2525) is SMTP_PORT too: implicit TLS needs a port of its own',
    );
    expect(parseConfig({ ...TLS, SMTP_PORT: '0', SMTP_TLS_PORT: '0' }).SMTP_TLS_PORT).toBe(0);
  });

  it('refuses HTTP_PORT on an SMTP port of the same process and address', () => {
    expect(problemsOf({ SMTP_PORT: '8080', HTTP_PORT: '8080' })).toContain(
      'HTTP_PORT: HTTP_PORT (8080) is SMTP_PORT too, on SMTP_HOST 0.0.0.0 and HTTP_HOST 127.0.0.1',
    );
    expect(problemsOf({ ...TLS, SMTP_TLS_PORT: '8443', HTTP_PORT: '8443', SMTP_HOST: '::' })).toContain(
      'HTTP_PORT: HTTP_PORT (8443) is SMTP_TLS_PORT too',
    );
  });

  it('lets roles of other processes, or other addresses, share a port number', () => {
    expect(parseConfig({ SMTP_PORT: '8080', HTTP_PORT: '8080', ROLES: 'smtp,worker' }).HTTP_PORT).toBe(8080);
    expect(
      parseConfig({ SMTP_PORT: '8080', HTTP_PORT: '8080', SMTP_HOST: '10.0.0.5', HTTP_HOST: '127.0.0.1' })
        .HTTP_PORT,
    ).toBe(8080);
  });
});
