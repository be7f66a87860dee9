import net from 'node:net';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUTBOUND_QUEUE } from '../../src/shared/keys.js';
import { startFakeSes, type FakeSes } from '../helpers/fake-ses.js';
import { startGateway } from '../helpers/gateway.js';
import { deleteKeys, uniquePrefix } from '../helpers/redis.js';
import { sendMail, simpleMessage, SmtpClient, type SmtpReply } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

describe('graceful shutdown', () => {
  let ses: FakeSes;
  beforeAll(async () => {
    ses = await startFakeSes();
  });
  afterAll(async () => {
    await ses.stop();
  });

  it('lets an in-flight SES call finish before stopping, and the message completes', async () => {
    const gw = await startGateway({}, { ses });
    ses.latencyMs = 700;
    const queue = new Queue(OUTBOUND_QUEUE, { connection: gw.redis, prefix: gw.config.REDIS_PREFIX });
    try {
      const result = await sendMail(gw.smtpPort, {
        from: 'app@example.com',
        to: ['u@example.net'],
        message: simpleMessage(),
      });
      const queueId = /queued as (\w+)/.exec(result.data!.text)![1]!;
      await waitFor(() => ses.sendsReceived === 1, { what: 'the SES call to be in flight' });
      await gw.app.stop();
      expect(ses.sends).toHaveLength(1);
      expect(await queue.getJobState(queueId)).toBe('completed');
    } finally {
      ses.reset();
      await queue.close();
      await gw.stop();
    }
  });

  it('puts jobs waiting for the pacer back on stop, finishes within SHUTDOWN_TIMEOUT, and loses or repeats nothing', async () => {
    const prefix = uniquePrefix('shutdown-pacer');
    // 2 recipients/s and 10 per message: every message waits 5 s for its turn in the pacer.
    const first = await startGateway({ SES_MAX_SEND_RATE: '2' }, { ses, prefix, cleanup: false });
    const queue = new Queue(OUTBOUND_QUEUE, { connection: first.redis, prefix });
    let second: Awaited<ReturnType<typeof startGateway>> | undefined;
    try {
      ses.latencyMs = 200;
      const recipients: string[] = [];
      const queueIds: string[] = [];
      for (let m = 0; m < 12; m++) {
        const to = Array.from({ length: 10 }, (_, r) => `m${m}-r${r}@example.net`);
        recipients.push(...to);
        const result = await sendMail(first.smtpPort, {
          from: 'app@example.com',
          to,
          message: simpleMessage(),
        });
        queueIds.push(/queued as (\w+)/.exec(result.data!.text)![1]!);
      }
      await waitFor(async () => ses.sendsReceived >= 1 && (await queue.getActiveCount()) >= 3, {
        what: 'one send out and several jobs waiting in the pacer',
      });

      const startedAt = Date.now();
      const stopped = first.app.stop().then(() => Date.now() - startedAt);
      const deadline = new Promise<number>((resolve) =>
        setTimeout(() => resolve(Infinity), first.config.SHUTDOWN_TIMEOUT * 2).unref(),
      );
      expect(await Promise.race([stopped, deadline])).toBeLessThan(first.config.SHUTDOWN_TIMEOUT);
      const states = await Promise.all(queueIds.map((id) => queue.getJobState(id)));
      expect(states.filter((state) => !['completed', 'delayed', 'waiting'].includes(state))).toEqual([]);
      const putBack = await Promise.all(queueIds.map((id) => queue.getJob(id)));
      for (const job of putBack.filter((j, i) => states[i] === 'delayed')) expect(job?.attemptsMade).toBe(0);
      expect(states).toContain('delayed');

      ses.latencyMs = 0;
      second = await startGateway({ ROLES: 'worker' }, { ses, prefix });
      for (const id of queueIds) await waitFor(async () => (await queue.getJobState(id)) === 'completed');
      // Every recipient reached SES exactly once across the restart.
      expect(ses.sends.flatMap((s) => s.to).sort()).toEqual([...recipients].sort());
    } finally {
      ses.reset();
      await queue.close();
      if (second) await second.stop();
      else await deleteKeys(first.redis, prefix);
      await first.stop();
    }
  });

  it('does not wait for a session that left its transaction with RSET or EHLO', async () => {
    const gw = await startGateway({ ROLES: 'smtp', SHUTDOWN_TIMEOUT: '15s' }, { ses });
    const [reset, rehello] = await Promise.all([
      SmtpClient.connect(gw.smtpPort),
      SmtpClient.connect(gw.smtpPort),
    ]);
    try {
      for (const client of [reset, rehello]) {
        await client.hello();
        expect((await client.command('MAIL FROM:<app@example.com>')).code).toBe(250);
      }
      expect((await reset.command('RSET')).code).toBe(250);
      expect((await rehello.command('EHLO again.example')).code).toBe(250);
      await gw.app.stop();
      expect(gw.logs.filter((line) => line.msg === 'smtp.shutdown_timeout')).toEqual([]);
    } finally {
      reset.close();
      rehello.close();
      await gw.stop();
    }
  });

  it('answers MAIL on an idle session with 421 once draining has begun, so the shutdown does not wait for it', async () => {
    const gw = await startGateway({ ROLES: 'smtp', SHUTDOWN_TIMEOUT: '15s' }, { ses });
    const [inProgress, idle] = await Promise.all([
      SmtpClient.connect(gw.smtpPort),
      SmtpClient.connect(gw.smtpPort),
    ]);
    try {
      await inProgress.hello();
      await idle.hello();
      expect((await inProgress.command('MAIL FROM:<app@example.com>')).code).toBe(250);
      const stopping = gw.app.stop();
      await waitFor(
        async () => {
          const late = await SmtpClient.connect(gw.smtpPort);
          const greeting = await late.read();
          late.close();
          return greeting.code === 421;
        },
        { what: 'draining to begin' },
      );

      const mail = await idle.command('MAIL FROM:<app@example.com>');
      expect(mail.code).toBe(421);
      expect(mail.text).toMatch(/^4\.3\.2 .* shutting down/);
      expect((await inProgress.command('RCPT TO:<u@example.net>')).code).toBe(250);
      expect((await inProgress.data(simpleMessage())).code).toBe(250);
      await stopping;
      expect(gw.logs.filter((line) => line.msg === 'smtp.shutdown_timeout')).toEqual([]);
    } finally {
      inProgress.close();
      idle.close();
      await gw.stop();
    }
  });

  it('refuses new sessions with 421 while a transaction in progress finishes; queued mail survives a restart', async () => {
    const prefix = uniquePrefix('shutdown');
    // No worker: the message stays queued across the restart.
    const first = await startGateway({ ROLES: 'smtp' }, { ses, prefix, cleanup: false });
    const inProgress = await SmtpClient.connect(first.smtpPort);
    await inProgress.hello();
    expect((await inProgress.command('MAIL FROM:<app@example.com>')).code).toBe(250);

    const stopping = first.app.stop();
    const late = await SmtpClient.connect(first.smtpPort);
    const refused = await late.read();
    expect(refused.code).toBe(421);
    expect(refused.text).toMatch(/^4\.3\.2 .* shutting down/);
    late.close();

    expect((await inProgress.command('RCPT TO:<u@example.net>')).code).toBe(250);
    expect((await inProgress.data(simpleMessage({ subject: 'across restart' }))).code).toBe(250);
    await stopping;
    inProgress.close();
    await first.stop();

    const second = await startGateway({ ROLES: 'worker' }, { ses, prefix });
    try {
      const send = await waitFor(() =>
        ses.sends.find((s) => s.raw.toString().includes('Subject: across restart')),
      );
      expect(send.to).toEqual(['u@example.net']);
    } finally {
      await second.stop();
    }
  });
});

describe('shutdown with sessions that stay open', () => {
  let ses: FakeSes;
  beforeAll(async () => {
    ses = await startFakeSes();
  });
  afterAll(async () => {
    await ses.stop();
  });

  /** The next reply that is not a NOOP's 250. */
  async function firstRefusal(client: SmtpClient): Promise<SmtpReply> {
    for (;;) {
      const reply = await client.read(10_000);
      if (reply.code !== 250) return reply;
    }
  }

  // With PROXY, stop() used to wait for the front's net.Server.close(), which calls back only once
  // every socket it accepted has closed, the sessions handed to smtp-server included: an idle session
  // held the shutdown until SMTP_SOCKET_TIMEOUT, one that kept sending NOOP for ever.
  for (const proxy of [false, true]) {
    it(`says 421 to idle and NOOP-ing sessions after the grace and stops well within SHUTDOWN_TIMEOUT (SMTP_PROXY_PROTOCOL=${proxy})`, async () => {
      const gw = await startGateway(
        {
          ROLES: 'smtp',
          SHUTDOWN_TIMEOUT: '2s',
          SMTP_SOCKET_TIMEOUT: '15s',
          ...(proxy ? { SMTP_PROXY_PROTOCOL: 'true', SMTP_PROXY_TRUSTED_NETWORKS: '127.0.0.0/8' } : {}),
        },
        { ses },
      );
      const [idle, chatty] = await Promise.all([
        SmtpClient.connect(gw.smtpPort),
        SmtpClient.connect(gw.smtpPort),
      ]);
      // With PROXY: a connection from the balancer whose header never came (no session yet).
      const silent = proxy ? net.connect(gw.smtpPort, '127.0.0.1') : undefined;
      let silentClosedAt: number | undefined;
      silent?.on('error', () => undefined).resume();
      silent?.on('close', () => (silentClosedAt = Date.now()));
      let noop: NodeJS.Timeout | undefined;
      try {
        for (const [n, client] of [idle, chatty].entries()) {
          if (proxy) client.write(`PROXY TCP4 127.0.0.${9 + n} 127.0.0.1 4000${n} 25\r\n`);
          expect((await client.hello()).code).toBe(250);
        }
        noop = setInterval(() => chatty.write('NOOP\r\n'), 200);
        const started = Date.now();
        const stopping = gw.app.stop();
        const [idleReply, chattyReply] = await Promise.all([idle.read(10_000), firstRefusal(chatty)]);
        await stopping;
        const took = Date.now() - started;
        // smtp-server's own shutdown reply, not its idle-timeout one.
        expect(idleReply).toMatchObject({ code: 421, text: 'Server shutting down' });
        expect(chattyReply).toMatchObject({ code: 421, text: 'Server shutting down' });
        expect(took, 'the shutdown waited for sessions past the 1 s grace').toBeLessThan(2500);
        if (silent) {
          await waitFor(() => silentClosedAt !== undefined, {
            what: 'the headerless connection to be closed',
          });
          expect(silentClosedAt! - started, 'the headerless connection outlived the grace').toBeLessThan(
            2500,
          );
        }
      } finally {
        clearInterval(noop);
        idle.close();
        chatty.close();
        silent?.destroy();
        await gw.stop();
      }
    }, 30_000);
  }
});
