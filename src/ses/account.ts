// What SES says about the account (GetAccount): send rate, 24-hour quota, whether sending is
// enabled. Read at start and refreshed periodically by the worker role; the pacer, the quota hold
// and the paused-account probe all read from here.
import { GetAccountCommand, type SESv2Client } from '@aws-sdk/client-sesv2';

export interface AccountState {
  /** Recipients per second SES allows. */
  maxSendRate: number;
  /** Recipients per rolling 24 hours; Infinity when SES reports -1 (unlimited). */
  max24HourSend: number;
  sentLast24Hours: number;
  sendingEnabled: boolean;
  productionAccess: boolean;
  enforcementStatus: string;
  readAt: number;
}

/** A sandbox account sends 1 recipient/s and 200 a day, to verified addresses only. */
export function isSandbox(state: AccountState): boolean {
  return !state.productionAccess;
}

export async function readAccount(client: SESv2Client, now: () => number = Date.now): Promise<AccountState> {
  const account = await client.send(new GetAccountCommand({}));
  const quota = account.SendQuota ?? {};
  const max24 = quota.Max24HourSend ?? 0;
  return {
    maxSendRate: quota.MaxSendRate ?? 1,
    max24HourSend: max24 < 0 ? Infinity : max24,
    sentLast24Hours: quota.SentLast24Hours ?? 0,
    sendingEnabled: account.SendingEnabled !== false,
    productionAccess: account.ProductionAccessEnabled === true,
    enforcementStatus: account.EnforcementStatus ?? 'UNKNOWN',
    readAt: now(),
  };
}

export interface RateSettings {
  /** SES_MAX_SEND_RATE: a fixed rate that wins over the account's. */
  fixedRate: number | undefined;
  /** SES_RATE_FACTOR: share of the account's MaxSendRate to use. */
  factor: number;
}

/** The pacing rate in recipients/s: the fixed one, or the account's times the safety factor. */
export function pacingRate(account: AccountState | undefined, settings: RateSettings): number {
  if (settings.fixedRate !== undefined) return settings.fixedRate;
  if (!account) return 1;
  // Never below one recipient per second: SES's own floor, and a rate of 0 would stall the queue.
  return Math.max(1, account.maxSendRate * settings.factor);
}
