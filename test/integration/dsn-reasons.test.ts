// A DSN names each failed recipient's own reason: the recipients of a chunk SES refused for good get
// SES's refusal (5.0.0), those of a chunk still failing transiently when the job ended get the job's
// reason (attempts used up: 4.0.0; queue lifetime: 4.4.7).
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { OUTBOUND_QUEUE } from '../../src/shared/keys.js';
import type { RecordedSend } from '../helpers/fake-ses.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { sendMail, simpleMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';
import { DSN_FROM, NOT_VERIFIED, rcpts, UNAVAILABLE } from './chunk-fixture.js';

const REFUSED = `SES_PERMANENT: MessageRejected (HTTP 400): ${NOT_VERIFIED.message}`;

interface DsnEntry {
  recipient: string;
  status: string;
  diagnostic: string;
}

/** The per-recipient fields of the DSN's message/delivery-status part. */
function dsnEntries(dsn: RecordedSend): DsnEntry[] {
  return dsn.raw
    .toString('latin1')
    .split('\r\n\r\n')
    .filter((block) => block.startsWith('Final-Recipient: '))
    .map((block) => ({
      recipient: /^Final-Recipient: rfc822; (.*)$/m.exec(block)![1]!.trim(),
      status: /^Status: (.*)$/m.exec(block)![1]!.trim(),
      diagnostic: /^Diagnostic-Code: X-SES; (.*)$/m.exec(block)![1]!.trim(),
    }));
}

/** The text/plain part: the lines between the recipient list's heading and the next MIME part. */
function humanPart(dsn: RecordedSend): string {
  const text = dsn.raw.toString('latin1');
  const start = text.indexOf('Your message could not be delivered');
  return text.slice(start, text.indexOf('\r\n--dsn-', start));
}

describe('DSN reasons per recipient', () => {
  let gw: TestGateway | undefined;
  let queue: Queue | undefined;
  afterEach(async () => {
    await queue?.close();
    await gw?.stop();
    queue = undefined;
    gw = undefined;
  });

  async function start(env: Record<string, string>): Promise<{ gw: TestGateway; queue: Queue }> {
    gw = await startGateway({ DSN_FROM, ...env });
    queue = new Queue(OUTBOUND_QUEUE, { connection: gw.redis, prefix: gw.config.REDIS_PREFIX });
    // Chunk 2 (r50–r99) is refused for good, chunk 3 (r100–r119) is never accepted.
    gw.ses.onSend((send) => {
      if (send.to[0] === 'r50@example.net') return NOT_VERIFIED;
      if (send.to[0] === 'r100@example.net') return UNAVAILABLE;
      return undefined;
    });
    return { gw, queue };
  }

  async function failedMessage(gw: TestGateway, queue: Queue) {
    const result = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: rcpts(0, 120),
      message: simpleMessage(),
    });
    expect(result.data?.code).toBe(250);
    const queueId = /queued as ([A-Z0-9]+)/.exec(result.data!.text)![1]!;
    await waitFor(async () => (await queue.getJobState(queueId)) === 'failed', { what: 'the job to fail' });
    const job = (await queue.getJob(queueId))!;
    const dsn = await waitFor(() => gw.ses.sends.find((s) => s.from === DSN_FROM), { what: 'the DSN' });
    return { job, dsn };
  }

  it('gives a refused chunk its SES refusal (5.0.0) and a transiently failing one the job reason (4.0.0)', async () => {
    const { gw, queue } = await start({ SEND_MAX_ATTEMPTS: '2', SEND_RETRY_BASE: '20ms' });
    const { job, dsn } = await failedMessage(gw, queue);
    expect(job.failedReason).toBe('SES_TRANSIENT: ServiceUnavailable (HTTP 503): try later');
    expect(job.attemptsMade).toBe(2);
    expect(dsn.to).toEqual(['app@example.com']);

    const entries = dsnEntries(dsn);
    expect(entries.map((e) => e.recipient)).toEqual(rcpts(50, 120));
    expect(entries.slice(0, 50)).toEqual(
      rcpts(50, 100).map((recipient) => ({ recipient, status: '5.0.0', diagnostic: REFUSED })),
    );
    expect(entries.slice(50)).toEqual(
      rcpts(100, 120).map((recipient) => ({ recipient, status: '4.0.0', diagnostic: job.failedReason })),
    );
    // The human-readable part lists each group under its own reason.
    const human = humanPart(dsn);
    expect(human).not.toContain('<r49@example.net>');
    expect(human.indexOf('<r99@example.net>')).toBeLessThan(human.indexOf(`Reason: ${REFUSED}`));
    expect(human.indexOf(`Reason: ${REFUSED}`)).toBeLessThan(human.indexOf('<r100@example.net>'));
    expect(human.indexOf('<r119@example.net>')).toBeLessThan(human.indexOf(`Reason: ${job.failedReason}`));
  });

  it('gives the chunk still failing at the end of the queue lifetime 4.4.7 and words the lifetime in seconds', async () => {
    const { gw, queue } = await start({ QUEUE_MAX_AGE: '1s', SEND_RETRY_BASE: '20ms' });
    const { job, dsn } = await failedMessage(gw, queue);
    expect(job.failedReason).toBe('QUEUE_LIFETIME_EXCEEDED: not delivered within 1 s');
    const entries = dsnEntries(dsn);
    expect(entries.map((e) => e.recipient)).toEqual(rcpts(50, 120));
    expect(new Set(entries.slice(0, 50).map((e) => `${e.status} ${e.diagnostic}`))).toEqual(
      new Set([`5.0.0 ${REFUSED}`]),
    );
    expect(new Set(entries.slice(50).map((e) => `${e.status} ${e.diagnostic}`))).toEqual(
      new Set(['4.4.7 QUEUE_LIFETIME_EXCEEDED: not delivered within 1 s']),
    );
  });
});
