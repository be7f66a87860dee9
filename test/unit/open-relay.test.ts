import { describe, expect, it } from 'vitest';
import { openRelayRisk, parseConfig } from '../../src/config/index.js';

const riskOf = (env: Record<string, string>) => openRelayRisk(parseConfig(env));

describe('open relay risk', () => {
  it.each([
    ['0.0.0.0/0', '0.0.0.0'],
    ['::/0', '::'],
    ['10.0.0.0/8,0.0.0.0/1', '192.0.2.10'],
    ['52.0.0.0/8', 'mail.internal'],
    ['2a00::/12', '0.0.0.0'],
  ])('names SMTP_ALLOWED_NETWORKS=%s on SMTP_HOST=%s without AUTH required', (networks, host) => {
    const risk = riskOf({ SMTP_ALLOWED_NETWORKS: networks, SMTP_HOST: host });
    expect(risk).toContain('SMTP_ALLOWED_NETWORKS');
    expect(risk).toContain(networks.split(',').at(-1));
    expect(risk).toContain('without AUTH');
  });

  const safe: Record<string, string>[] = [
    // The defaults: loopback ranges only.
    {},
    // Private and loopback ranges, however wide.
    { SMTP_ALLOWED_NETWORKS: '10.0.0.0/8,127.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7,::1/128' },
    // Public ranges narrower than /8 (IPv6: /16).
    { SMTP_ALLOWED_NETWORKS: '198.51.100.0/24,52.16.0.0/9,2001:db8::/32' },
    // Listening on loopback only.
    ...['127.0.0.1', '::1', 'localhost'].map((host) => ({
      SMTP_ALLOWED_NETWORKS: '0.0.0.0/0',
      SMTP_HOST: host,
    })),
    // AUTH required from every client.
    {
      SMTP_ALLOWED_NETWORKS: '0.0.0.0/0,::/0',
      SMTP_AUTH_REQUIRED: 'true',
      SMTP_USERS_FILE: '/etc/users.yaml',
    },
  ];
  it.each(safe)('sees none in %j', (env) => {
    expect(riskOf(env)).toBeUndefined();
  });
});
