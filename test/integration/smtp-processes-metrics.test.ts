// With SMTP_PROCESSES > 1 the primary sums its children's counters into /metrics. The sums never go
// down: a child that misses the scrape's deadline counts with its last snapshot, and a child that
// dies keeps its counts (its replacement starts from 0). A real `ses-relay start` with two children.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMainCli } from '../helpers/cli-run.js';
import { startFakeSes, type FakeSes } from '../helpers/fake-ses.js';
import { deleteKeys, freePort, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { sendMail, simpleMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

const MESSAGES = 20;

describe('summed metrics of SMTP child processes', () => {
  let ses: FakeSes;
  beforeAll(async () => {
    ses = await startFakeSes();
  });
  afterAll(async () => {
    await ses.stop();
  });

  it('never go down when a child is late to answer or dies and is replaced', async () => {
    const prefix = uniquePrefix('smtp-procs');
    const smtpPort = await freePort();
    const httpPort = await freePort();
    const cli = startMainCli(['start'], {
      SMTP_PROCESSES: '2',
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtpPort),
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(httpPort),
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: prefix,
      SES_ENDPOINT: ses.url,
      SES_MAX_SEND_RATE: '1000',
      AWS_ACCESS_KEY_ID: 'AKIDTEST',
      AWS_SECRET_ACCESS_KEY: 'test',
    });
    const child = cli.child;
    const out = () => cli.stdout();
    const exit = cli.done.then((result) => result.code);
    const accepted = async () => {
      const startedAt = Date.now();
      const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      const match = /^ses_relay_messages_accepted_total (\d+)$/m.exec(text);
      return { value: Number(match?.[1] ?? NaN), ms: Date.now() - startedAt };
    };
    let stopped: number | undefined;
    try {
      await waitFor(() => out().split('"msg":"app.started"').length === 4, {
        timeoutMs: 30_000,
        what: 'the primary and both SMTP processes to start',
      });
      const results = await Promise.all(
        Array.from({ length: MESSAGES }, (_, i) =>
          sendMail(smtpPort, {
            from: 'app@example.com',
            to: [`u${i}@example.net`],
            message: simpleMessage(),
          }),
        ),
      );
      expect(results.map((result) => result.data?.code)).toEqual(Array(MESSAGES).fill(250));
      const lines = out()
        .split('\n')
        .filter((line) => line.startsWith('{'));
      const started = lines.find((line) => line.includes('"msg":"smtp.processes_started"'))!;
      // In the order of their indexes: the first pid is smtpProcess 0.
      const [victim] = (JSON.parse(started) as { pids: number[] }).pids;
      const byVictim = lines.filter(
        (line) => line.includes('"msg":"smtp.accepted"') && line.includes('"smtpProcess":0'),
      ).length;
      expect(byVictim).toBeGreaterThan(0);
      expect((await accepted()).value).toBe(MESSAGES);
      // The dashboard lists jobs and instances by the start time, which a sum of processes has not.
      const combined = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      expect(combined).toMatch(/^ses_relay_process_start_time_seconds \d+$/m);

      // Stopped: it cannot answer within the primary's 2 s; its last snapshot stands in.
      process.kill(victim!, 'SIGSTOP');
      stopped = victim;
      const late = await accepted();
      expect(late.value).toBe(MESSAGES);
      expect(late.ms).toBeLessThan(5000);
      process.kill(victim!, 'SIGCONT');
      stopped = undefined;

      // Killed and replaced: the replacement starts from 0, the dead child's counts are kept.
      process.kill(victim!, 'SIGKILL');
      await waitFor(() => out().includes('"msg":"smtp.process_restarted"'), {
        timeoutMs: 30_000,
        what: 'the primary to replace the killed child',
      });
      expect((await accepted()).value).toBe(MESSAGES);
      const after = await sendMail(smtpPort, {
        from: 'app@example.com',
        to: ['after@example.net'],
        message: simpleMessage(),
      });
      expect(after.data?.code).toBe(250);
      expect((await accepted()).value).toBe(MESSAGES + 1);

      child.kill('SIGTERM');
      expect(await exit).toBe(0);
    } finally {
      if (stopped !== undefined) process.kill(stopped, 'SIGCONT');
      child.kill('SIGKILL');
      const redis = new Redis(TEST_REDIS_URL);
      await deleteKeys(redis, prefix);
      redis.disconnect();
    }
  });
});
