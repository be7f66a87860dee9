// The admin credential checks and error catalog: pure, so tested without a server.
import { describe, expect, it } from 'vitest';
import { challengeFor, createCredentialCheck, decodeBasic, planAuth } from '../../src/admin/auth.js';
import { ADMIN_ERRORS } from '../../src/admin/errors.js';

const basic = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;

describe('planAuth', () => {
  it('enables /admin with a token, with basic auth, or both', () => {
    expect(planAuth({ token: 't' })).toMatchObject({
      enabled: true,
      bearer: true,
      basic: false,
      warning: undefined,
    });
    expect(planAuth({ user: 'u', password: 'p' })).toMatchObject({
      enabled: true,
      bearer: false,
      basic: true,
    });
    expect(planAuth({ token: 't', user: 'u', password: 'p' })).toMatchObject({ bearer: true, basic: true });
  });

  it('disables /admin with a warning when nothing usable is configured', () => {
    expect(planAuth({})).toMatchObject({ enabled: false, warning: expect.stringMatching(/disabled/) });
    expect(planAuth({ token: '', user: '', password: '' }).enabled).toBe(false);
    expect(planAuth({ password: 'p' })).toMatchObject({
      enabled: false,
      warning: expect.stringMatching(/ADMIN_USER/),
    });
  });

  it('warns when basic auth is half configured next to a token', () => {
    expect(planAuth({ token: 't', user: 'u' })).toMatchObject({
      enabled: true,
      basic: false,
      warning: expect.stringMatching(/token only/),
    });
  });
});

describe('decodeBasic', () => {
  it('splits at the first colon, so passwords may hold colons', () => {
    expect(decodeBasic(Buffer.from('ops:a:b').toString('base64'))).toEqual({ user: 'ops', password: 'a:b' });
    expect(decodeBasic(Buffer.from('ops:').toString('base64'))).toEqual({ user: 'ops', password: '' });
  });

  it('refuses what is not base64 of user:password', () => {
    expect(decodeBasic('!!!')).toBeUndefined();
    expect(decodeBasic(Buffer.from('nocolon').toString('base64'))).toBeUndefined();
  });
});

describe('createCredentialCheck', () => {
  const check = createCredentialCheck({ token: 'tok', user: 'ops', password: 'pw' });

  it('accepts the token and the user and password, schemes in any case, naming who it was', () => {
    expect(check('Bearer tok')).toBe('token');
    expect(check('bearer tok')).toBe('token');
    expect(check(basic('ops:pw'))).toBe('ops');
    expect(check(`BASIC ${Buffer.from('ops:pw').toString('base64')}`)).toBe('ops');
  });

  it('refuses anything else', () => {
    for (const header of [
      undefined,
      '',
      'tok',
      'Bearer',
      'Bearer tokx',
      'Bearer to',
      basic('ops:PW'),
      basic('root:pw'),
      'Token tok',
      'Basic tok',
    ]) {
      expect(check(header), String(header)).toBeUndefined();
    }
  });

  it('refuses a kind of credential that is not configured', () => {
    expect(createCredentialCheck({ token: 'tok' })(basic('ops:pw'))).toBeUndefined();
    expect(createCredentialCheck({ user: 'ops', password: 'pw' })('Bearer tok')).toBeUndefined();
    expect(createCredentialCheck({})('Bearer ')).toBeUndefined();
  });
});

describe('challengeFor', () => {
  it('asks browsers for basic auth only when it is configured', () => {
    expect(challengeFor(planAuth({ user: 'u', password: 'p' }))).toBe('Basic realm="ses-relay"');
    expect(challengeFor(planAuth({ token: 't', user: 'u', password: 'p' }))).toBe('Basic realm="ses-relay"');
    expect(challengeFor(planAuth({ token: 't' }))).toBe('Bearer realm="ses-relay"');
  });
});

describe('ADMIN_ERRORS', () => {
  it('gives every code an admin prefix, an HTTP error status and a documentation line', () => {
    for (const [code, spec] of Object.entries(ADMIN_ERRORS)) {
      expect(code).toMatch(/^ADMIN_[A-Z_]+$/);
      expect(spec.status).toBeGreaterThanOrEqual(400);
      expect(spec.status).toBeLessThan(600);
      expect(spec.doc.length).toBeGreaterThan(10);
    }
  });
});
