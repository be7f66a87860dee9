// `ses-relay send-test`: an end-to-end check of a running deployment. One message goes in through the
// gateway's own SMTP listener to the SES mailbox simulator, and the command follows its timeline
// (trace store) until SES's event about it comes back through SNS — proving intake, queue, worker,
// SES, SNS and the webhook all work together.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/index.js';
import type { Timeline } from '../trace/trace-store.js';
import { type CliRuntime, CliError, EXIT_FAILED, EXIT_OK, usageError } from './runtime.js';
import { err, formatDuration, out, printJson } from './output.js';
import { judge, SIMULATOR, type ExpectedEvent, type Verdict } from './send-test-outcome.js';
import { SmtpRefusal, submitMessage } from './smtp-submit.js';
import { formatEvent } from './timeline-format.js';

/** How often the timeline is read while waiting: events arrive seconds apart, this costs one GET. */
const POLL_INTERVAL_MS = 250;

export interface SendTestFlags {
  to?: string;
  bounce?: boolean;
  complaint?: boolean;
  from?: string;
  timeout: number;
  json?: boolean;
}

export function defaultSender(config: Config): string {
  const first = config.SMTP_ALLOWED_SENDERS[0];
  if (first === undefined) return `ses-relay-test@${config.SMTP_NAME}`;
  return first.startsWith('@') ? `ses-relay-test${first}` : first;
}

/** The listener's address as a client reaches it: a wildcard bind is reached on loopback. */
export function smtpTarget(config: Config): { host: string; port: number } {
  const host =
    config.SMTP_HOST === '0.0.0.0' ? '127.0.0.1' : config.SMTP_HOST === '::' ? '::1' : config.SMTP_HOST;
  return { host, port: config.SMTP_PORT };
}

function testMessage(config: Config, from: string, to: string, expected: ExpectedEvent): string {
  const now = new Date();
  return [
    `From: ses-relay send-test <${from}>`,
    `To: <${to}>`,
    `Subject: ses-relay send-test (${expected}) ${now.toISOString()}`,
    `Date: ${now.toUTCString()}`,
    `Message-ID: <send-test.${randomBytes(8).toString('hex')}@${config.SMTP_NAME}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    `A test message from \`ses-relay send-test\`, expecting an SES ${expected} event.`,
    '',
  ].join('\r\n');
}

/**
 * send-test speaks plain SMTP without AUTH; say so up front rather than fail at MAIL FROM. The keys
 * are read loosely so this keeps working whichever listener options the configuration carries.
 */
export function unsupportedListener(config: Config): string | undefined {
  const settings = config as unknown as Record<string, unknown>;
  if (settings.SMTP_AUTH_REQUIRED === true)
    return 'SMTP_AUTH_REQUIRED is on, and send-test does not authenticate';
  if (settings.SMTP_REQUIRE_TLS === true)
    return 'SMTP_REQUIRE_TLS is on, and send-test does not speak STARTTLS';
  return undefined;
}

function expectation(flags: SendTestFlags): { expected: ExpectedEvent; to: string } {
  if (flags.bounce && flags.complaint) throw usageError('--bounce and --complaint exclude each other');
  if (flags.to && (flags.bounce || flags.complaint))
    throw usageError('--to cannot be combined with --bounce or --complaint');
  const expected: ExpectedEvent = flags.bounce ? 'Bounce' : flags.complaint ? 'Complaint' : 'Delivery';
  return { expected, to: flags.to ?? SIMULATOR[expected] };
}

async function submit(rt: CliRuntime, from: string, to: string, expected: ExpectedEvent): Promise<string> {
  const { host, port } = smtpTarget(rt.config);
  try {
    const reply = await submitMessage({
      host,
      port,
      helo: rt.config.SMTP_NAME,
      from,
      to,
      message: testMessage(rt.config, from, to, expected),
      proxyHeader: rt.config.SMTP_PROXY_PROTOCOL,
    });
    const queueId = /queued as (\S+)/.exec(reply.text)?.[1];
    if (!queueId) throw new CliError(`the gateway accepted the message but did not queue it: ${reply.text}`);
    return queueId;
  } catch (e) {
    if (e instanceof SmtpRefusal && e.reply.code === 550 && e.step.startsWith('the recipient')) {
      throw new CliError(
        `${e.message}\n  an earlier test may have suppressed it: ses-relay suppression remove ${to}`,
      );
    }
    if (e instanceof CliError || e instanceof SmtpRefusal)
      throw e instanceof CliError ? e : new CliError(e.message);
    throw new CliError(`cannot send through the SMTP listener at ${host}:${port}: ${(e as Error).message}`);
  }
}

/** Why nothing came back, judged from how far the message got. */
function timeoutHint(timeline: Timeline | undefined): string {
  const sent = timeline?.events.some((e) => e.type === 'ses-call' && e.outcome === 'sent');
  if (!sent)
    return 'no worker sent it to SES: is a worker running, or is sending held? (ses-relay queue stats)';
  return 'SES took it but no event came back: check the configuration set, SNS subscription and SNS_TOPIC_ARNS (ses-relay doctor)';
}

/** Reads the timeline until the verdict is in or the time is up, printing each new entry. */
async function follow(rt: CliRuntime, queueId: string, expected: ExpectedEvent, flags: SendTestFlags) {
  const trace = rt.trace();
  const deadline = Date.now() + flags.timeout;
  let printed = 0;
  for (;;) {
    const timeline = await trace.lookup(queueId);
    const events = timeline?.events ?? [];
    if (!flags.json) for (const event of events.slice(printed)) out(`  ${formatEvent(event)}`);
    printed = events.length;
    const verdict: Verdict = judge(events, expected);
    if (verdict.state !== 'waiting' || Date.now() >= deadline) return { timeline, verdict };
    await sleep(Math.min(POLL_INTERVAL_MS, Math.max(0, deadline - Date.now())));
  }
}

export async function sendTest(rt: CliRuntime, flags: SendTestFlags): Promise<number> {
  const { expected, to } = expectation(flags);
  const unsupported = unsupportedListener(rt.config);
  if (unsupported) throw usageError(unsupported);
  const from = flags.from ?? defaultSender(rt.config);
  const queueId = await submit(rt, from, to, expected);
  if (!flags.json)
    out(
      `queued as ${queueId}: <${from}> → <${to}>, waiting up to ${formatDuration(flags.timeout)} for ${expected}`,
    );
  const { timeline, verdict } = await follow(rt, queueId, expected, flags);
  const passed = verdict.state === 'passed';
  const reason =
    verdict.state === 'failed'
      ? verdict.reason
      : `no ${expected} within ${formatDuration(flags.timeout)}: ${timeoutHint(timeline)}`;
  if (flags.json)
    printJson({
      queueId,
      from,
      to,
      expected,
      passed,
      ...(passed ? {} : { reason }),
      events: timeline?.events ?? [],
    });
  else if (passed) out(`ok: SES reported ${expected} for ${queueId}`);
  else err(`send-test failed: ${reason}`);
  return passed ? EXIT_OK : EXIT_FAILED;
}
