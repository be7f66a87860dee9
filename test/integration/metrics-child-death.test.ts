// The primary's sum of its SMTP children's counters (SMTP_PROCESSES > 1) when a child dies in the
// middle of a scrape, after it answered and before another child did: its counts must be summed
// once, or the next scrape reads lower and Prometheus takes the drop for a counter reset (a rate
// spike of the whole count). Real child processes (node:cluster) on the real IPC channel; the test
// process is the primary.
import cluster, { type Worker } from 'node:cluster';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { MetricsJson } from '../../src/metrics/child-snapshots.js';
import { startSmtpProcesses, type SmtpProcesses } from '../../src/roles/smtp-processes.js';
import { createLogger } from '../../src/shared/logger.js';

const CHILD = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/metrics-smtp-child.ts');

/** messages_accepted_total over every snapshot the primary would sum. */
function accepted(snapshots: MetricsJson[]): number {
  return snapshots
    .flat()
    .filter((metric) => metric.name === 'ses_relay_messages_accepted_total')
    .flatMap((metric) => metric.values)
    .reduce((sum, sample) => sum + sample.value, 0);
}

const nextMessage = (worker: Worker, type: string) =>
  new Promise<void>((resolve) => {
    const listener = (message: { type?: string }) => {
      if (message.type !== type) return;
      worker.off('message', listener);
      resolve();
    };
    worker.on('message', listener);
  });

describe('summed metrics of SMTP children when one dies during a scrape', () => {
  let processes: SmtpProcesses | undefined;
  afterAll(async () => {
    await processes?.stop(5000);
  });

  it('counts the dead child once, never more than the scrapes before and after', async () => {
    cluster.setupPrimary({ exec: CHILD, args: [] });
    const logger = createLogger('fatal', new Writable({ write: (_chunk, _enc, done) => done() }));
    // The children inherit the environment: tsx runs the TypeScript child.
    const nodeOptions = process.env.NODE_OPTIONS;
    process.env.NODE_OPTIONS = `${nodeOptions ?? ''} --import tsx`.trim();
    try {
      processes = await startSmtpProcesses(2, logger);
    } finally {
      if (nodeOptions === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = nodeOptions;
    }
    // Forked in index order: child 0 has accepted 10 messages, child 1 20.
    const [first, second] = Object.values(cluster.workers ?? {})
      .filter((worker): worker is Worker => worker !== undefined && !worker.isDead())
      .sort((a, b) => a.id - b.id);

    expect(accepted(await processes.metrics())).toBe(30);

    second!.send({ type: 'test:hold' });
    await nextMessage(second!, 'test:holding');
    const answered = nextMessage(first!, 'ses-relay:metrics');
    const scrape = processes.metrics();
    await answered;
    const exited = new Promise((resolve) => first!.once('exit', resolve));
    first!.process.kill('SIGKILL');
    await exited;
    second!.send({ type: 'test:release' });

    expect(accepted(await scrape)).toBe(30);
    expect(accepted(await processes.metrics())).toBe(30);
  });
});
