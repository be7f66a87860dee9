import fs from 'node:fs';
import path from 'node:path';
import { Queue } from 'bullmq';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDailyQuota } from '../../src/queue/quota.js';
import { createKeys, OUTBOUND_QUEUE } from '../../src/shared/keys.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { simpleMessage, SmtpClient } from '../helpers/smtp-client.js';
import { removeTempDirs, tempDir } from '../helpers/tls-cert.js';
import { waitFor } from '../helpers/wait.js';

const PASSWORD = 'user-limits-password';

async function sendAs(port: number, user: string, recipients: string[]): Promise<string> {
  const client = await SmtpClient.connect(port);
  await client.hello();
  expect((await client.auth(user, PASSWORD)).code).toBe(235);
  expect((await client.command('MAIL FROM:<app@example.com>')).code).toBe(250);
  for (const to of recipients) expect((await client.command(`RCPT TO:<${to}>`)).code).toBe(250);
  const reply = await client.data(simpleMessage());
  client.close();
  expect(reply.code).toBe(250);
  return /queued as (\w+)/.exec(reply.text)![1]!;
}

describe('per-user rate share and daily cap', () => {
  let gw: TestGateway;
  let queue: Queue;
  beforeAll(async () => {
    const hash = bcrypt.hashSync(PASSWORD, 4);
    const file = path.join(tempDir('user-limits'), 'users.yaml');
    fs.writeFileSync(
      file,
      [
        'users:',
        '  - username: slow',
        `    password: "${hash}"`,
        '    rateShare: 2',
        '  - username: capped',
        `    password: "${hash}"`,
        '    dailyCap: 3',
        '  - username: retried',
        `    password: "${hash}"`,
        '    dailyCap: 3',
        '  - username: small',
        `    password: "${hash}"`,
        '    dailyCap: 2',
      ].join('\n'),
    );
    gw = await startGateway({ SMTP_USERS_FILE: file, SMTP_ALLOW_INSECURE_AUTH: 'true' });
    queue = new Queue(OUTBOUND_QUEUE, { connection: gw.redis, prefix: gw.config.REDIS_PREFIX });
  });
  afterAll(async () => {
    await queue.close();
    await gw.stop();
    removeTempDirs();
  });

  it('paces a user with a rate share at its own rate, below the global one', async () => {
    gw.ses.reset();
    for (let i = 0; i < 3; i++) await sendAs(gw.smtpPort, 'slow', [`a${i}@example.net`, `b${i}@example.net`]);
    await waitFor(() => gw.ses.sends.length === 3, { timeoutMs: 15_000 });
    const times = gw.ses.sends.map((s) => s.at).sort((a, b) => a - b);
    // 6 recipients at 2/s: the last pair cannot reach SES before about 2 s after the first.
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(1800);
  });

  it("holds a user's mail past its daily cap (delayed, not failed)", async () => {
    gw.ses.reset();
    const first = await sendAs(gw.smtpPort, 'capped', ['c1@example.net', 'c2@example.net']);
    await waitFor(async () => (await queue.getJobState(first)) === 'completed');
    const second = await sendAs(gw.smtpPort, 'capped', ['c3@example.net', 'c4@example.net']);
    await waitFor(async () => (await queue.getJobState(second)) === 'delayed');
    // queue.delayed is logged once BullMQ's move has returned, a moment after the state reads so.
    await waitFor(
      () =>
        gw.logs.some(
          (l) => l.msg === 'queue.delayed' && String(l.why).includes('daily cap of SMTP user capped'),
        ),
      { what: 'the hold to be logged' },
    );
    expect(gw.ses.sends).toHaveLength(1);
  });

  it("refuses the RCPT past the user's dailyCap (452 4.5.3) and sends the rest in the next transaction", async () => {
    gw.ses.reset();
    const client = await SmtpClient.connect(gw.smtpPort);
    await client.hello();
    expect((await client.auth('small', PASSWORD)).code).toBe(235);
    expect((await client.command('MAIL FROM:<app@example.com>')).code).toBe(250);
    expect((await client.command('RCPT TO:<e1@example.net>')).code).toBe(250);
    expect((await client.command('RCPT TO:<e2@example.net>')).code).toBe(250);
    const third = await client.command('RCPT TO:<e3@example.net>');
    expect(`${third.code} ${third.text}`).toBe(
      '452 4.5.3 Too many recipients for your daily cap of 2, send the rest in another message',
    );
    const reply = await client.data(simpleMessage());
    expect(reply.code).toBe(250);
    const first = /queued as (\w+)/.exec(reply.text)![1]!;
    await waitFor(async () => (await queue.getJobState(first)) === 'completed');
    expect(gw.ses.sends[0]!.to).toEqual(['e1@example.net', 'e2@example.net']);
    // The cap used up today still holds the next message, as before (delayed, not refused at RCPT).
    expect((await client.command('MAIL FROM:<app@example.com>')).code).toBe(250);
    expect((await client.command('RCPT TO:<e3@example.net>')).code).toBe(250);
    const held = /queued as (\w+)/.exec((await client.data(simpleMessage())).text)![1]!;
    client.close();
    await waitFor(async () => (await queue.getJobState(held)) === 'delayed');
  });

  it("counts only the recipients SES accepted against a user's daily cap, not throttled or failed tries", async () => {
    gw.ses.reset();
    // A throttling answer, then a transient error (a new attempt), then SES accepts.
    gw.ses.onSend((_send, index) =>
      index === 0
        ? { status: 429, type: 'TooManyRequestsException', message: 'Maximum sending rate exceeded.' }
        : index === 1
          ? { status: 503, type: 'ServiceUnavailable', message: 'try later' }
          : undefined,
    );
    const first = await sendAs(gw.smtpPort, 'retried', ['d1@example.net', 'd2@example.net']);
    await waitFor(async () => (await queue.getJobState(first)) === 'completed');
    expect(gw.ses.calls).toBe(3);
    const cap = createDailyQuota(gw.redis, createKeys(gw.config.REDIS_PREFIX).userQuota('retried'));
    expect(await cap.sentLast24Hours()).toBe(2);
    // The cap of 3 still has room for one more recipient.
    const second = await sendAs(gw.smtpPort, 'retried', ['d3@example.net']);
    await waitFor(async () => (await queue.getJobState(second)) === 'completed');
    expect(await cap.sentLast24Hours()).toBe(3);
  });
});
