// Keeps the worker's view of the SES account current: reads GetAccount at start and every
// `refreshMs`, feeds the pacing rate and the 24-hour quota, pauses the queue when SES says sending
// is disabled, and — while SES holds the queue — probes every `probeMs` and resumes once it sends.
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { isSandbox, pacingRate, readAccount, type AccountState, type RateSettings } from '../ses/account.js';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { SendingHolds } from './holds.js';

export interface AccountMonitorOptions {
  ses: SESv2Client;
  holds: SendingHolds;
  logger: Logger;
  rate: RateSettings;
  refreshMs: number;
  probeMs: number;
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
  start(): Promise<void>;
  stop(): void;
  readonly account: AccountState | undefined;
  readonly rate: number;
  /** Max24HourSend as last read; Infinity when unknown. */
  quotaLimit(): number;
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

  async function check(): Promise<void> {
    try {
      const previous = account;
      account = await readAccount(options.ses);
      warnedUnreadable = false;
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
    await applySendingState();
  }

  async function applySendingState(): Promise<void> {
    const hold = await holds.current();
    if (account && !account.sendingEnabled) {
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
    // SES-caused holds are lifted by the probe once SES reports sending enabled again; the next
    // send confirms it (a SendingPaused answer pauses again). Operator holds stay until resumed.
    if (hold?.by === 'ses' && (!account || account.sendingEnabled)) {
      await holds.resume();
      logger.warn({ heldForMs: Date.now() - hold.since, reason: hold.reason }, 'ses.sending_resumed');
    }
  }

  function schedule(): void {
    refreshTimer = setInterval(() => void check().catch(() => undefined), options.refreshMs);
    refreshTimer.unref();
    probeTimer = setInterval(() => {
      void holds
        .current()
        .then((hold) => (hold?.by === 'ses' ? check() : undefined))
        .catch(() => undefined);
    }, options.probeMs);
    probeTimer.unref();
  }

  return {
    async start() {
      await check();
      schedule();
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
    check,
  };
}
