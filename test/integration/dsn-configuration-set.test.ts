// A DSN is queued by the worker, not through intake where SES_CONFIGURATION_SET is applied, so it
// takes the default configuration set itself: its event destination is how a DSN that bounces or
// draws a complaint comes back to the suppression list and the reputation guard.
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { OUTBOUND_QUEUE } from '../../src/shared/keys.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { sendMail, simpleMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';
import { DSN_FROM, NOT_VERIFIED } from './chunk-fixture.js';

describe('the configuration set of a DSN', () => {
  let gw: TestGateway | undefined;
  let queue: Queue | undefined;
  afterEach(async () => {
    await queue?.close();
    await gw?.stop();
    queue = undefined;
    gw = undefined;
  });

  it('is SES_CONFIGURATION_SET, like every other message that names none', async () => {
    gw = await startGateway({ DSN_FROM, SEND_MAX_ATTEMPTS: '1', SES_CONFIGURATION_SET: 'relay-events' });
    queue = new Queue(OUTBOUND_QUEUE, { connection: gw.redis, prefix: gw.config.REDIS_PREFIX });
    gw.ses.onSend((send) => (send.to.includes('refused@example.net') ? NOT_VERIFIED : undefined));

    // An ordinary message gets the default...
    const ok = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: ['reader@example.net'],
      message: simpleMessage(),
    });
    expect(ok.data?.code).toBe(250);
    const delivered = await waitFor(() => gw!.ses.sends.find((s) => s.to.includes('reader@example.net')), {
      what: 'the ordinary send',
    });
    expect(delivered.configurationSet).toBe('relay-events');

    // ...and so does a DSN.
    const failed = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: ['refused@example.net'],
      message: simpleMessage(),
    });
    expect(failed.data?.code).toBe(250);
    const dsn = await waitFor(() => gw!.ses.sends.find((s) => s.from === DSN_FROM), { what: 'the DSN' });
    expect(dsn.to).toEqual(['app@example.com']);
    expect(dsn.configurationSet).toBe('relay-events');
  });
});
