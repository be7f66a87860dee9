// `ses-relay queue …`: what the outbound queue holds and why it is not moving, and the operator's
// levers — pause and resume sending (the same hold SES-caused pauses use, so the workers and the
// admin page see it) and retrying failed messages. The work is src/ops (shared with the admin API); this module
// words it for a terminal.
import {
  pauseSending,
  prefixInUse,
  readStats,
  resumeSending,
  retryFailed,
  type GatewayStats,
} from '../ops/index.js';
import { storedBytesTtlMs } from '../queue/queued-message.js';
import { RESUME_ACKNOWLEDGES } from '../queue/reputation.js';
import { confirmBulk } from './confirm.js';
import { type CliRuntime, EXIT_FAILED, EXIT_OK } from './runtime.js';
import { err, formatDuration, formatTime, out, plural, printJson } from './output.js';

const percent = (share: number | null) => (share === null ? '-' : `${(share * 100).toFixed(2)}%`);

/** The text of `queue stats`, one line per entry. */
export function renderStats(stats: GatewayStats, prefix: string, throttleMs: number): string[] {
  const { queue, quota, pacing, hold, rates } = stats;
  const lines = [`queue outbound (prefix ${prefix})`];
  for (const [state, count] of Object.entries(queue.counts)) {
    const oldest =
      state === 'waiting' && queue.oldestWaitingAgeMs !== null
        ? `  (oldest ${formatDuration(queue.oldestWaitingAgeMs)})`
        : '';
    lines.push(`  ${state.padEnd(17)} ${String(count).padStart(8)}${oldest}`);
  }
  if (hold) lines.push(`sending: HELD by ${hold.by} since ${formatTime(hold.since)}: ${hold.reason}`);
  else lines.push(`sending: ${queue.paused ? 'PAUSED (queue paused without a recorded reason)' : 'running'}`);
  if (throttleMs > 0) lines.push(`throttle back-off: ${formatDuration(throttleMs)} left`);
  // The ledger counts a chunk from its reservation (before the pacer lets it go), so "or reserved".
  // Before any worker read the account, the limit is unknown, not unlimited (as on the admin page).
  const used = `recipients sent or reserved by this deployment`;
  if (!quota.account) lines.push(`24-hour quota: ${quota.sentLast24Hours} ${used}; SES account not read yet`);
  else {
    const max = quota.max24HourSend === null ? 'unlimited' : String(quota.max24HourSend);
    lines.push(
      `24-hour quota: ${quota.sentLast24Hours}/${max} ${used}; SES counted ${quota.account.sentLast24Hours} for the whole account`,
    );
  }
  const a = quota.account;
  if (!a) lines.push('SES account: no recent snapshot (no worker running, or it cannot read GetAccount)');
  else {
    lines.push(
      `SES account (read ${formatDuration(Math.max(0, stats.at - a.readAt))} ago): ` +
        `${a.productionAccess ? 'production' : 'SANDBOX'}, sending ${a.sendingEnabled ? 'enabled' : 'DISABLED'}, ` +
        `${a.enforcementStatus}, max ${a.maxSendRate}/s, pacing ${pacing.ratePerSecond ?? '-'}/s`,
    );
  }
  lines.push(
    `feedback over ${rates.windowDays} days: ${rates.sent} sent, bounce rate ${percent(rates.bounceRate)}, ` +
      `complaint rate ${percent(rates.complaintRate)}; ${plural(stats.suppressions.count, 'suppressed address', 'suppressed addresses')}`,
  );
  lines.push(reputationLine(stats));
  return lines;
}

/** The guard's own window and rates, which decide its holds (the 30 days above are SES's view). */
function reputationLine(stats: GatewayStats): string {
  const r = stats.reputation;
  if (!r) return 'reputation guard: no reading yet (no worker running)';
  const limit = (threshold: number | null) =>
    threshold === null ? '' : ` (pauses at ${percent(threshold)})`;
  const ack = r.acknowledged
    ? `; acknowledged at resume: bounce ${percent(r.acknowledged.bounceRate)}, complaint ${percent(r.acknowledged.complaintRate)} until ${formatTime(r.acknowledged.until)}`
    : '';
  return (
    `reputation guard over ${r.windowDays} days (checked ${formatDuration(Math.max(0, stats.at - r.at))} ago): ` +
    `${r.sent} sent, bounce rate ${percent(r.bounceRate)}${limit(r.pauseBounceRate)}, ` +
    `complaint rate ${percent(r.complaintRate)}${limit(r.pauseComplaintRate)}${ack}`
  );
}

/**
 * Warns when no gateway has used REDIS_PREFIX on this Redis: a mistyped prefix would otherwise show
 * an empty queue, or pause nothing, without a word. Checked before the command creates the queue.
 */
async function warnIfUnusedPrefix(rt: CliRuntime): Promise<void> {
  if (await prefixInUse(rt.redis(), rt.config.REDIS_PREFIX)) return;
  err(
    `ses-relay: warning: no gateway has used REDIS_PREFIX "${rt.config.REDIS_PREFIX}" on this Redis ` +
      '(no worker state, no messages): check REDIS_PREFIX and REDIS_URL',
  );
}

export async function queueStats(rt: CliRuntime, json?: boolean): Promise<number> {
  await warnIfUnusedPrefix(rt);
  const holds = await rt.holds();
  const [stats, throttleRemainingMs] = await Promise.all([
    readStats({
      redis: rt.redis(),
      prefix: rt.config.REDIS_PREFIX,
      queue: await rt.queue(),
      holds,
      suppression: rt.suppression(),
    }),
    holds.throttleRemainingMs(),
  ]);
  if (json) printJson({ ...stats, throttleRemainingMs });
  else for (const line of renderStats(stats, rt.config.REDIS_PREFIX, throttleRemainingMs)) out(line);
  return EXIT_OK;
}

export async function pauseQueue(rt: CliRuntime, reason: string | undefined): Promise<number> {
  await warnIfUnusedPrefix(rt);
  const { hold, fresh } = await pauseSending(await rt.holds(), reason);
  const since = `since ${formatTime(hold?.since)}: ${hold?.reason ?? ''}`;
  if (fresh) out(`sending paused: ${hold?.reason ?? reason}`);
  else if (hold?.by === 'operator') out(`sending was already paused by an operator ${since}`);
  else {
    // The first hold's reason wins (holds.ts), and the workers lift an SES hold on their own.
    out(`sending was already held by ${hold?.by ?? 'ses'} ${since}`);
    err(
      'note: the workers lift an SES hold once SES sends again; pause again after that to keep sending paused',
    );
  }
  return EXIT_OK;
}

export async function resumeQueue(rt: CliRuntime): Promise<number> {
  await warnIfUnusedPrefix(rt);
  const { previous } = await resumeSending(await rt.holds());
  if (previous)
    out(
      `sending resumed (was held by ${previous.by} since ${formatTime(previous.since)}: ${previous.reason})`,
    );
  else out('sending resumed (no hold was recorded)');
  if (previous?.by === 'reputation') err(`note: ${RESUME_ACKNOWLEDGES}`);
  return EXIT_OK;
}

export interface RetryFlags {
  limit?: number;
  dryRun?: boolean;
  yes?: boolean;
  json?: boolean;
}

export async function retryFailedJobs(rt: CliRuntime, flags: RetryFlags): Promise<number> {
  const queue = await rt.queue();
  const failed = await queue.getFailedCount();
  const count = flags.limit === undefined ? failed : Math.min(flags.limit, failed);
  const what = plural(count, 'failed message');
  if (flags.dryRun) {
    if (flags.json) printJson({ dryRun: true, wouldRetry: count, failed });
    else out(`would retry ${what} (${failed} failed in all); nothing changed`);
    return EXIT_OK;
  }
  if (!(await confirmBulk(`retry ${what}`, count, flags.yes))) {
    err('nothing retried');
    return EXIT_FAILED;
  }
  const result = await retryFailed(queue, {
    ...(flags.limit === undefined ? {} : { limit: flags.limit }),
    // As long as at intake: the retried message has a whole queue lifetime again.
    bytes: { redis: rt.redis(), keys: rt.keys, ttlMs: storedBytesTtlMs(rt.config) },
  });
  if (flags.json) printJson(result);
  else {
    out(`retried ${plural(result.retried, 'failed message')}`);
    if (result.skipped > 0)
      out(`  ${result.skipped} left the failed set meanwhile (retried or removed elsewhere)`);
  }
  return EXIT_OK;
}
