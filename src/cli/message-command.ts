// `ses-relay message <id>`: the timeline of one message, found by queue id, the client's Message-ID
// or an SES MessageId, with where its job stands in the queue now (src/ops does the lookup).
import { lookupMessage } from '../ops/index.js';
import { type CliRuntime, EXIT_FAILED, EXIT_OK } from './runtime.js';
import { err, formatDuration, out, printJson } from './output.js';
import { formatEvent } from './timeline-format.js';

export async function showMessage(rt: CliRuntime, id: string, json?: boolean): Promise<number> {
  const view = await lookupMessage({ trace: rt.trace(), queue: await rt.queue() }, id);
  if (!view) {
    err(
      `no trace of ${id}: not a queue id, Message-ID or SES MessageId seen in the last ` +
        `${formatDuration(rt.config.TRACE_RETENTION)} (TRACE_RETENTION)`,
    );
    return EXIT_FAILED;
  }
  if (json) {
    printJson(view);
    return EXIT_OK;
  }
  out(`message ${view.queueId}`);
  for (const event of view.events) out(`  ${formatEvent(event)}`);
  const job = view.job;
  if (job) {
    const attempts = `attempt ${job.attemptsMade}${job.attempts === null ? '' : ` of ${job.attempts}`}`;
    out(`queue: ${job.state} (${attempts})${job.failedReason ? `: ${job.failedReason}` : ''}`);
  } else out('queue: job no longer kept (COMPLETED_JOB_RETENTION / FAILED_JOB_RETENTION)');
  return EXIT_OK;
}
