// The operator commands of `ses-relay` (everything but `start` and `user hash`): suppression, queue,
// message, doctor, send-test. This file only declares them; each implementation is imported when its
// command runs, so `--help` and the suppression commands answer without loading BullMQ.
//
// Exit codes: 0 done; 1 the check or operation failed; 2 usage or configuration error.
import { Option, type Command, type CommanderError } from 'commander';
import { DAY_MS, duration, durationAtMost, pointInTime, positiveInt, positiveNumber } from './arguments.js';
import type { SuppressionReason } from '../suppression/index.js';
import { EXIT_USAGE, runCommand } from './runtime.js';
import { CONFIRM_ABOVE_ITEMS } from './confirm.js';
import type { ExportFlags } from './suppression-commands.js';
import { SUPPRESSION_FORMATS, SUPPRESSION_REASONS } from '../ops/suppression-io.js';

const suppression = () => import('./suppression-commands.js');
const queue = () => import('./queue-commands.js');

const DEFAULT_LIST_LIMIT = 100;
/** Longest --expires: a suppression meant to outlast a century is a permanent one. */
const MAX_EXPIRES_MS = 36_500 * DAY_MS;
const DEFAULT_SEND_TEST_TIMEOUT_MS = 120_000;

/**
 * Commander exits 1 for its own usage errors (codes `commander.*`: unknown option, missing or invalid
 * argument), which would read as "the check failed": those exit 2, help and version 0. A command that
 * reports its own failure through `command.error()` (`user hash`: 1, or 130 for Ctrl-C) keeps its code.
 */
function usageExit(err: CommanderError): never {
  if (!err.code.startsWith('commander.')) process.exit(err.exitCode);
  process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
}

/** Applies the exit codes to a command; subcommands created from it afterwards inherit them. */
export function withUsageExitCodes(command: Command): Command {
  return command.exitOverride(usageExit).showHelpAfterError('(add --help for usage)');
}

const json = () => new Option('--json', 'print JSON instead of text');

function registerSuppression(program: Command): void {
  const group = withUsageExitCodes(program.command('suppression')).description(
    'inspect and change the suppression list the gateway enforces',
  );

  group
    .command('list')
    .description('list suppressed addresses (in storage order, not by time)')
    .addOption(new Option('--reason <reason>', 'only this reason').choices(SUPPRESSION_REASONS))
    .option(
      '--since <date>',
      'only entries suppressed since an ISO date, or a duration ago (7d)',
      pointInTime(),
    )
    .option('--limit <n>', 'at most this many entries', positiveInt, DEFAULT_LIST_LIMIT)
    .addOption(json())
    .action((flags: { reason?: SuppressionReason; since?: number; limit: number; json?: boolean }) =>
      runCommand(async (rt) => (await suppression()).listSuppressions(rt, flags)),
    );

  group
    .command('check <address>')
    .description('is the address suppressed? (exit 1 when it is, 0 when mail may go to it)')
    .addOption(json())
    .action((address: string, flags: { json?: boolean }) =>
      runCommand(async (rt) => (await suppression()).checkSuppression(rt, address, flags.json)),
    );

  group
    .command('add <address>')
    .description('suppress an address')
    .addOption(new Option('--reason <reason>', 'why').choices(SUPPRESSION_REASONS).default('manual'))
    .option(
      '--expires <duration>',
      'lift the suppression after this long (30d); default never',
      durationAtMost(MAX_EXPIRES_MS, 'leave --expires out for a suppression that never lifts'),
    )
    .action((address: string, flags: { reason: SuppressionReason; expires?: number }) =>
      runCommand(async (rt) => (await suppression()).addSuppression(rt, address, flags)),
    );

  group
    .command('remove <address>')
    .description('lift the suppression of an address (exit 1 when it was not suppressed)')
    .action((address: string) =>
      runCommand(async (rt) => (await suppression()).removeSuppression(rt, address)),
    );

  group
    .command('import [file]')
    .description('add entries from a CSV or JSON-lines file (- for stdin), or from the SES account list')
    .addOption(
      new Option(
        '--format <format>',
        'file format (default: from the file name, else the first line)',
      ).choices(SUPPRESSION_FORMATS),
    )
    .option('--from-ses', 'import the SES account-level suppression list (ListSuppressedDestinations)')
    .option('--rate <per-second>', 'SES requests per second (SES documents about 1)', positiveNumber, 1)
    .addOption(json())
    .action(
      (
        file: string | undefined,
        flags: { format?: 'csv' | 'jsonl'; fromSes?: boolean; rate: number; json?: boolean },
      ) => runCommand(async (rt) => (await suppression()).importSuppressions(rt, file, flags)),
    );

  group
    .command('export')
    .description('write every entry as CSV or JSON lines, or push them to the SES account-level list')
    .addOption(
      new Option('--format <format>', 'output format (default: from --out, else csv)').choices(
        SUPPRESSION_FORMATS,
      ),
    )
    .option(
      '--out <file>',
      'write to a file instead of stdout (- for stdout); a new file is created readable by its owner ' +
        'only (0600: the list is personal data), an existing file keeps its permissions and is replaced ' +
        'only once the export is complete; a symlink, FIFO or device is written to as it is',
    )
    .option('--to-ses', 'put every non-expiring entry on the SES account list (PutSuppressedDestination)')
    .option('--rate <per-second>', 'SES requests per second (SES documents about 1)', positiveNumber, 1)
    .option('--dry-run', 'with --to-ses: print how many entries would be pushed and change nothing')
    .option(
      '--yes',
      `with --to-ses: push more than ${CONFIRM_ABOVE_ITEMS} entries without asking (needed when stdin is not a terminal)`,
    )
    .addOption(json())
    .action((flags: ExportFlags) =>
      runCommand(async (rt) => (await suppression()).exportSuppressions(rt, flags)),
    );
}

function registerQueue(program: Command): void {
  const group = withUsageExitCodes(program.command('queue')).description(
    'inspect and steer the outbound queue',
  );

  group
    .command('stats')
    .description('job counts by state, oldest waiting message, sending hold, SES account snapshot')
    .addOption(json())
    .action((flags: { json?: boolean }) =>
      runCommand(async (rt) => (await queue()).queueStats(rt, flags.json)),
    );

  group
    .command('pause')
    .description('hold sending (intake keeps queueing) until `queue resume`')
    .option('--reason <text>', 'why, shown by `queue stats`, the admin page and the log')
    .action((flags: { reason?: string }) =>
      runCommand(async (rt) => (await queue()).pauseQueue(rt, flags.reason)),
    );

  group
    .command('resume')
    .description('lift a sending hold (operator or SES)')
    .action(() => runCommand(async (rt) => (await queue()).resumeQueue(rt)));

  group
    .command('retry-failed')
    .description('put failed messages back in the queue with a fresh set of attempts')
    .option('--limit <n>', 'at most this many (default all)', positiveInt)
    .option('--dry-run', 'print how many would be retried and change nothing')
    .option(
      '--yes',
      `retry more than ${CONFIRM_ABOVE_ITEMS} without asking (needed when stdin is not a terminal)`,
    )
    .addOption(json())
    .action((flags: { limit?: number; dryRun?: boolean; yes?: boolean; json?: boolean }) =>
      runCommand(async (rt) => (await queue()).retryFailedJobs(rt, flags)),
    );
}

function registerDiagnostics(program: Command): void {
  withUsageExitCodes(program.command('message <id>'))
    .description(
      "one message's timeline, by queue id, Message-ID or SES MessageId (also as <MessageId@email.amazonses.com>)",
    )
    .addOption(json())
    .action((id: string, flags: { json?: boolean }) =>
      runCommand(async (rt) => (await import('./message-command.js')).showMessage(rt, id, flags.json)),
    );

  withUsageExitCodes(program.command('doctor'))
    .description(
      'check Redis, the SES account, sender identities, configuration set and SNS topics (exit 1 on any failure)',
    )
    .addOption(json())
    .action((flags: { json?: boolean }) =>
      runCommand(async (rt) => (await import('./doctor-command.js')).runDoctor(rt, flags.json)),
    );

  withUsageExitCodes(program.command('send-test'))
    .description('send through the gateway to the SES mailbox simulator and wait for the SES event')
    .option('--to <address>', 'recipient (default success@simulator.amazonses.com)')
    .option('--bounce', 'send to bounce@simulator.amazonses.com and expect a Bounce')
    .option('--complaint', 'send to complaint@simulator.amazonses.com and expect a Complaint')
    .option('--from <address>', 'sender (default: the first SMTP_ALLOWED_SENDERS entry)')
    .addOption(
      new Option('--timeout <duration>', 'how long to wait for the event')
        .argParser(duration)
        .default(DEFAULT_SEND_TEST_TIMEOUT_MS, '120s'),
    )
    .addOption(json())
    .action(
      (flags: {
        to?: string;
        bounce?: boolean;
        complaint?: boolean;
        from?: string;
        timeout: number;
        json?: boolean;
      }) => runCommand(async (rt) => (await import('./send-test-command.js')).sendTest(rt, flags)),
    );
}

export function registerOperatorCommands(program: Command): void {
  registerSuppression(program);
  registerQueue(program);
  registerDiagnostics(program);
}
