// Start-up warns when the SMTP listener would relay for anyone: a wide allowed network on an address
// other than loopback, and AUTH not required. A warning only: the gateway starts and answers.
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { sendMail, simpleMessage } from '../helpers/smtp-client.js';

describe('open relay warning', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
  });

  const openRelayWarnings = (running: TestGateway) =>
    running.logs.filter((l) => l.msg.startsWith('smtp.open_relay'));

  it('warns at start-up when 0.0.0.0/0 may send without AUTH on all interfaces, and starts anyway', async () => {
    gw = await startGateway({ ROLES: 'smtp', SMTP_HOST: '0.0.0.0', SMTP_ALLOWED_NETWORKS: '0.0.0.0/0,::1' });
    const [warning] = openRelayWarnings(gw);
    expect(warning).toMatchObject({ level: 'warn' });
    expect(warning!.msg).toContain('0.0.0.0/0');
    expect(warning!.msg).toContain('SMTP_AUTH_REQUIRED');
    const result = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: ['user@example.net'],
      message: simpleMessage(),
    });
    expect(result.data?.code).toBe(250);
  });

  it('says nothing when the listener is on loopback', async () => {
    gw = await startGateway({ ROLES: 'smtp', SMTP_ALLOWED_NETWORKS: '0.0.0.0/0' });
    expect(gw.config.SMTP_HOST).toBe('127.0.0.1');
    expect(gw.logs.some((l) => l.msg === 'app.started')).toBe(true);
    expect(openRelayWarnings(gw)).toEqual([]);
  });
});
