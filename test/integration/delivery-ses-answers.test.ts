// What the worker makes of a SendEmail call that went only part of the way, through the real SDK:
// - SES answered 200 but the body broke off or stalled past SES_REQUEST_TIMEOUT: SES took the
//   message, so it counts as sent and is never sent again;
// - the call never reached SES because the credentials provider failed (STS refusing a web identity
//   token while it rotates answers 400): no verdict on the message, so it is retried, not failed.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSesCall, SendFailure } from '../../src/queue/ses-call.js';
import type { SendJobData } from '../../src/queue/job.js';
import { OUTBOUND_QUEUE } from '../../src/shared/keys.js';
import { createLogger } from '../../src/shared/logger.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { queueMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

/** An SES endpoint whose first SendEmail answer is a 200 whose body never ends; later ones are whole. */
class StallingSes {
  sendCalls = 0;
  private readonly server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url?.startsWith('/v2/email/account')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            SendQuota: { Max24HourSend: 50000, MaxSendRate: 14, SentLast24Hours: 0 },
            SendingEnabled: true,
            ProductionAccessEnabled: true,
          }),
        );
        return;
      }
      this.sendCalls++;
      res.writeHead(200, { 'content-type': 'application/json' });
      if (this.sendCalls === 1) res.write('{"MessageId":"0100stall');
      else res.end(JSON.stringify({ MessageId: `0100whole-${this.sendCalls}` }));
    });
  });

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe('SendEmail calls that went only part of the way', () => {
  let stalling: StallingSes;
  let gw: TestGateway;
  let queue: Queue;
  beforeAll(async () => {
    stalling = await new StallingSes().start();
    gw = await startGateway({ SES_ENDPOINT: stalling.url, SES_REQUEST_TIMEOUT: '500ms' });
    queue = new Queue(OUTBOUND_QUEUE, { connection: gw.redis, prefix: gw.config.REDIS_PREFIX });
  });
  afterAll(async () => {
    await queue.close();
    await gw.stop();
    await stalling.stop();
  });

  it('counts a 200 whose body stalls past SES_REQUEST_TIMEOUT as sent, and never sends it again', async () => {
    const queueId = await queueMessage(gw.smtpPort);
    await waitFor(async () => (await queue.getJobState(queueId)) === 'completed', {
      what: 'the message to complete',
    });
    expect(stalling.sendCalls).toBe(1);
    expect(gw.logs.find((l) => l.msg === 'ses.sent' && l.queueId === queueId)).toMatchObject({
      sesMessageId: 'unknown',
    });
  });

  it('retries a call whose credentials could not be had, whatever status the provider met', async () => {
    const stsRefusal = Object.assign(new Error('Token expired: current date/time is after exp'), {
      name: 'InvalidIdentityToken',
      $metadata: { httpStatusCode: 400 },
    });
    const client = new SESv2Client({
      region: 'us-east-1',
      endpoint: stalling.url,
      maxAttempts: 1,
      credentials: () => Promise.reject(stsRefusal),
    });
    const sendChunk = createSesCall({ ses: client, logger: createLogger('silent') });
    const data: SendJobData = {
      queueId: 'q-credentials',
      from: 'app@example.com',
      recipients: ['user@example.net'],
      size: 3,
      messageId: 'm@example.com',
      tags: [],
      clientIp: '127.0.0.1',
      helo: 'client',
      receivedAt: Date.now(),
    };
    const calls = stalling.sendCalls;
    const failure = await sendChunk(data, Buffer.from('x\r\n'), data.recipients, 0).catch(
      (err: unknown) => err,
    );
    client.destroy();
    expect(failure).toBeInstanceOf(SendFailure);
    expect((failure as SendFailure).errorClass).toBe('transient');
    expect((failure as SendFailure).message).toContain(
      'InvalidIdentityToken (HTTP 400, before SES answered)',
    );
    expect(stalling.sendCalls).toBe(calls);
  });
});
