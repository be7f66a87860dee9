// Keeps the worker's view of the SES account current: reads GetAccount at start and every
// `refreshMs`, feeds the pacing rate and the 24-hour quota, pauses the queue when SES says sending
// is disabled or AWS shut the account down, and — while SES holds the queue, or the account has not
// been read yet — probes every `probeMs` (resuming once a GetAccount read in that probe says SES
// sends again; an unreadable account keeps the hold). Each probe tick also brings the BullMQ queue
// in line with the hold (holds.ts).
// Start-up waits for the first read only briefly: while it is missing the worker runs as when
// GetAccount fails, at SES_MAX_SEND_RATE or 1 recipient/s.
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { isSandbox, pacingRate, readAccount, type AccountState, type RateSettings } from '../ses/account.js';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { HoldState, SendingHolds } from './holds.js';

/** How long start() waits for the first GetAccount; SES_REQUEST_TIMEOUT (30 s) would stall start-up. */
const FIRST_READ_WAIT_MS = 5000;

/**
 * Whether SES sends for the account. SendingEnabled is the account's own switch
 * (PutAccountSendingAttributes); an account AWS shut down for its reputation ("your account's ability
 * to send email is currently paused") says so in EnforcementStatus, whatever the switch: its hold
 * stays until AWS lifts it, rather than being lifted by every probe and paused again by the next send.
 */
function sends(account: AccountState): boolean {
  return account.sendingEnabled && account.enforcementStatus !== 'SHUTDOWN';
}

export interface AccountMonitorOptions {
  ses: SESv2Client;
  holds: SendingHolds;
  logger: Logger;
  rate: RateSettings;
  refreshMs: number;
  probeMs: number;
  /** How long start() waits for the first GetAccount before going on without it. */
  firstReadWaitMs?: number;
  onRate(ratePerSecond: number): void;
  /** Publishes what the worker knows (account, pacing rate) for the HTTP role and the CLI. */
  publish?(snapshot: AccountSnapshot): Promise<void>;
}

export interface AccountSnapshot {
  account: AccountState | undefined;
  ratePerSecond: number;
  at: number;
}

export interface AccountMonitor {
  /** Starts the timers; resolves after the first read, or after `firstReadWaitMs` without one. */
  start(): Promise<void>;
  stop(): void;
  readonly account: AccountState | undefined;
  readonly rate: number;
  /** Max24HourSend as last read; Infinity when unknown. */
  quotaLimit(): number;
  /** SentLast24Hours as last read (every send on the account, not only this deployment's); 0 when unknown. */
  sesSentLast24Hours(): number;
  /** One probe now (also used by the periodic timer). */
  check(): Promise<void>;
}

export function createAccountMonitor(options: AccountMonitorOptions): AccountMonitor {
  const { holds, logger } = options;
  let account: AccountState | undefined;
  let rate = pacingRate(undefined, options.rate);
  let refreshTimer: NodeJS.Timeout | undefined;
  let probeTimer: NodeJS.Timeout | undefined;
  let warnedUnreadable = false;
  let warnedHoldKept = false;
  let inFlight: Promise<void> | undefined;

  /** One read at a time: a probe that falls due while a slow GetAccount is out waits for it. */
  function check(): Promise<void> {
    inFlight ??= read().finally(() => (inFlight = undefined));
    return inFlight;
  }

  async function read(): Promise<void> {
    /** Whether GetAccount answered in this check: `account` alone may be an earlier read. */
    let readNow = false;
    try {
      const previous = account;
      account = await readAccount(options.ses);
      readNow = true;
      warnedUnreadable = false;
      warnedHoldKept = false;
      if (
        !previous ||
        previous.maxSendRate !== account.maxSendRate ||
        previous.max24HourSend !== account.max24HourSend ||
        previous.productionAccess !== account.productionAccess
      ) {
        // A changed Max24HourSend applies to the next reservation; mail held for the quota looks
        // again within QUOTA_RECHECK_MS (chunk-reservation.ts).
        logger.info(
          {
            maxSendRate: account.maxSendRate,
            max24HourSend: account.max24HourSend,
            previousMax24HourSend: previous?.max24HourSend,
            sentLast24Hours: account.sentLast24Hours,
            enforcementStatus: account.enforcementStatus,
          },
          'ses.account',
        );
        if (isSandbox(account)) {
          logger.warn(
            'ses.sandbox: the SES account is in the sandbox (1 recipient/s, 200 a day, verified recipients only)',
          );
        }
      }
    } catch (err) {
      if (!warnedUnreadable) {
        logger.warn(
          { err: errorMessage(err), rate },
          'ses.account_unreadable: GetAccount failed; pacing at SES_MAX_SEND_RATE or 1 recipient/s',
        );
      }
      warnedUnreadable = true;
    }
    const nextRate = pacingRate(account, options.rate);
    if (nextRate !== rate) {
      rate = nextRate;
      logger.info({ ratePerSecond: rate }, 'pacing.rate');
    }
    options.onRate(rate);
    await options.publish?.({ account, ratePerSecond: rate, at: Date.now() }).catch(() => undefined);
    await applySendingState(readNow);
  }

  async function applySendingState(readNow: boolean): Promise<void> {
    const hold = await holds.current();
    if (account && !sends(account)) {
      if (
        await holds.pause({
          reason: `GetAccount: sending disabled (${account.enforcementStatus})`,
          by: 'ses',
        })
      ) {
        logger.error({ enforcementStatus: account.enforcementStatus }, 'ses.sending_disabled');
      }
      return;
    }
    if (hold?.by !== 'ses') return;
    // SES-caused holds are lifted by the probe once SES itself reports sending enabled again, in a
    // read made by this very check: never on an earlier read while GetAccount fails (an outage, no
    // ses:GetAccount permission), which would send into a paused account at every probe. The next
    // send confirms it (a SendingPaused answer pauses again). Operator holds stay until resumed:
    // the lift is conditional, so an operator's pause landing after the read above stays.
    if (!readNow) {
      if (!warnedHoldKept) {
        logger.warn(
          { heldForMs: Date.now() - hold.since, reason: hold.reason },
          'ses.probe_unreadable: GetAccount failed, so the probe cannot tell whether SES sends again; ' +
            'the SES hold stays until a GetAccount read says sending is enabled or an operator resumes',
        );
      }
      warnedHoldKept = true;
      return;
    }
    if (await holds.resume({ onlyBy: 'ses' })) {
      logger.warn({ heldForMs: Date.now() - hold.since, reason: hold.reason }, 'ses.sending_resumed');
    }
  }

  /** The queue paused with no hold (or held and running) after a pause and a resume crossed: fixed here. */
  async function reconcile(): Promise<HoldState | undefined> {
    const { hold, changed } = await holds.reconcile();
    if (changed) {
      logger.warn(
        { hold },
        changed === 'resumed'
          ? 'holds.queue_resumed: the queue was paused with no hold recorded; resumed it'
          : 'holds.queue_paused: a hold was recorded but the queue was running; paused it',
      );
    }
    return hold;
  }

  function schedule(): void {
    refreshTimer = setInterval(() => void check().catch(() => undefined), options.refreshMs);
    refreshTimer.unref();
    probeTimer = setInterval(() => {
      const reconciled = reconcile();
      if (account === undefined) {
        void reconciled.catch(() => undefined);
        return void check().catch(() => undefined);
      }
      void reconciled.then((hold) => (hold?.by === 'ses' ? check() : undefined)).catch(() => undefined);
    }, options.probeMs);
    probeTimer.unref();
  }

  return {
    async start() {
      schedule();
      const first = check().then(
        () => true,
        (err: unknown) => {
          logger.warn({ err: errorMessage(err) }, 'ses.account_check_failed');
          return true;
        },
      );
      const waitMs = options.firstReadWaitMs ?? FIRST_READ_WAIT_MS;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), waitMs)));
      const answered = await Promise.race([first, late]);
      clearTimeout(timer);
      if (!answered) {
        logger.warn(
          { waitedMs: waitMs, ratePerSecond: rate },
          'ses.account_pending: no GetAccount answer yet; pacing at SES_MAX_SEND_RATE or 1 recipient/s until it comes',
        );
      }
    },
    stop() {
      clearInterval(refreshTimer);
      clearInterval(probeTimer);
    },
    get account() {
      return account;
    },
    get rate() {
      return rate;
    },
    quotaLimit: () => account?.max24HourSend ?? Infinity,
    sesSentLast24Hours: () => account?.sentLast24Hours ?? 0,
    check,
  };
}
