// Soft bounces through the whole HTTP role (configuration, webhook, real store): the suppression
// they end in expires after SOFT_BOUNCE_SUPPRESS_FOR, the admin API shows when, and a hard bounce
// still makes it permanent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSuppressionStore } from '../../src/suppression/index.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { createSnsSigner, snsHeaders, TEST_TOPIC_ARN, type SnsSigner } from '../helpers/sns-signer.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const TOKEN = 'soft-bounce-admin-token';

let gw: TestGateway;
let signer: SnsSigner;
let serial = 0;

beforeAll(async () => {
  signer = await createSnsSigner();
  gw = await startGateway(
    { ROLES: 'http', SNS_TOPIC_ARNS: TEST_TOPIC_ARN, SOFT_BOUNCE_SUPPRESS_FOR: '3d', ADMIN_TOKEN: TOKEN },
    { fetchSnsCertificate: signer.fetchCertificate },
  );
});
afterAll(async () => {
  await gw.stop();
});

/** Posts one bounce of `address` that happened at `at`, as its own SES event. */
async function postBounce(address: string, type: string, subType: string, at: number): Promise<unknown> {
  serial++;
  const event = {
    notificationType: 'Bounce',
    mail: { messageId: `ses-soft-${serial}`, timestamp: new Date(at).toISOString(), destination: [address] },
    bounce: {
      bounceType: type,
      bounceSubType: subType,
      feedbackId: `fb-soft-${process.pid}-${serial}`,
      timestamp: new Date(at).toISOString(),
      bouncedRecipients: [{ emailAddress: address }],
    },
  };
  const message = signer.notification(event);
  const res = await fetch(`http://127.0.0.1:${gw.httpPort}/sns`, {
    method: 'POST',
    headers: snsHeaders(message),
    body: JSON.stringify(message),
  });
  expect(res.status).toBe(200);
  return res.json();
}

const storeAt = (clock: () => number) =>
  createSuppressionStore({ redis: gw.redis, prefix: gw.config.REDIS_PREFIX, now: clock });

describe('soft-bounce suppressions', () => {
  it('expire SOFT_BOUNCE_SUPPRESS_FOR after the bounce that reached the limit (out-of-office replies, no Delivery topic)', async () => {
    const address = 'vacationer@example.com';
    const start = Date.now() - 5 * HOUR_MS;
    for (const hours of [0, 1, 2]) {
      expect(await postBounce(address, 'Transient', 'General', start + hours * HOUR_MS)).toEqual({
        status: 'applied',
      });
    }
    const expiresAt = start + 2 * HOUR_MS + 3 * DAY_MS;
    const store = storeAt(Date.now);
    expect(await store.get(address)).toMatchObject({
      reason: 'bounce',
      bounceType: 'Transient',
      bounceSubType: 'General',
      expiresAt,
    });

    const admin = await fetch(`http://127.0.0.1:${gw.httpPort}/admin/api/suppressions/${address}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(admin.status).toBe(200);
    expect(await admin.json()).toMatchObject({ address, entry: { reason: 'bounce', expiresAt } });

    expect(await storeAt(() => expiresAt - 1).isSuppressed(address)).toBe(true);
    expect(await storeAt(() => expiresAt).isSuppressed(address)).toBe(false);
  });

  it('expire for a full mailbox too, and a hard bounce afterwards makes the suppression permanent', async () => {
    const address = 'full@example.com';
    const start = Date.now() - 5 * HOUR_MS;
    for (const hours of [0, 1, 2])
      await postBounce(address, 'Transient', 'MailboxFull', start + hours * HOUR_MS);
    const store = storeAt(Date.now);
    expect(await store.get(address)).toMatchObject({ expiresAt: start + 2 * HOUR_MS + 3 * DAY_MS });

    await postBounce(address, 'Permanent', 'NoEmail', start + 3 * HOUR_MS);
    const record = await store.get(address);
    expect(record).toMatchObject({ reason: 'bounce', bounceType: 'Permanent', bounceSubType: 'NoEmail' });
    expect(record?.expiresAt).toBeUndefined();
  });
});
