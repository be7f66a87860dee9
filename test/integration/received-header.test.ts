// The Received trace field end to end: on messages held in memory and on large ones spooled to
// Redis while they arrive, and not at all with SMTP_RECEIVED_HEADER=false.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPOOL_THRESHOLD_BYTES } from '../../src/smtp/data-spool.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { sendMail, simpleMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

const to = ['user@example.net', 'hidden@example.org'];

describe('Received trace field', () => {
  let gw: TestGateway;
  let off: TestGateway;
  beforeAll(async () => {
    [gw, off] = await Promise.all([startGateway(), startGateway({ SMTP_RECEIVED_HEADER: 'false' })]);
  });
  afterAll(async () => {
    await Promise.all([gw.stop(), off.stop()]);
  });

  it('goes first on a large, spooled message too, once, naming neither recipient', async () => {
    const body = `${'x'.repeat(998)}\r\n`.repeat(Math.ceil((SPOOL_THRESHOLD_BYTES * 2) / 1000));
    const result = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to,
      message: simpleMessage({ subject: 'large', body }),
    });
    expect(result.data?.code).toBe(250);
    const queueId = /queued as (\w+)/.exec(result.data!.text)![1]!;
    const sent = await waitFor(() => gw.ses.sends.find((s) => s.raw.includes('Subject: large')));
    const text = sent.raw.toString('latin1');
    expect(
      text.startsWith(
        `Received: from client.test ([127.0.0.1])\r\n\tby ${gw.config.SMTP_NAME} (ses-relay) with ESMTP id ${queueId};\r\n\t`,
      ),
    ).toBe(true);
    expect(text.match(/^Received:/gm)).toHaveLength(1);
    const trace = text.slice(0, text.indexOf('\r\nDate:'));
    expect(trace).not.toContain('hidden@example.org');
    expect(trace).not.toContain('user@example.net');
  });

  it('is not added with SMTP_RECEIVED_HEADER=false', async () => {
    const result = await sendMail(off.smtpPort, {
      from: 'app@example.com',
      to,
      message: simpleMessage({ subject: 'off' }),
    });
    expect(result.data?.code).toBe(250);
    const sent = await waitFor(() => off.ses.sends.find((s) => s.raw.includes('Subject: off')));
    expect(sent.raw.toString('latin1')).not.toMatch(/^Received:/m);
  });
});
