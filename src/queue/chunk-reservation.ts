// Reserves a chunk's recipients before it is sent: in the SMTP user's daily cap (when the users file
// gives one, as the smtp role last published it, else as the message carried it from intake: see
// user-policy.ts) and in the account's 24-hour quota. A reservation is given back whenever its chunk
// is not sent (an SES error, a throttling answer, a wait ended by shutdown), so neither count ever
// holds recipients that did not go out.
import type { SendJobData } from './job.js';
import type { DailyQuota, QuotaDecision } from './quota.js';
import { userPolicyOf, type UserPolicies } from './user-policy.js';

/**
 * The longest a message waits for room in the 24-hour quota (or the SMTP user's daily cap) before it
 * looks again: the window may free only in hours, but AWS may raise Max24HourSend meanwhile (the
 * account monitor reads it every SES_ACCOUNT_REFRESH), an operator may raise a dailyCap (the users
 * file is reloaded), and SES's own SentLast24Hours, which this ledger cannot see fall, may drop.
 */
export const QUOTA_RECHECK_MS = 10 * 60_000;

export type Reservation =
  | { admitted: true; giveBack(): Promise<void> }
  | { admitted: false; waitMs: number; why: string; context: Record<string, unknown> };

export interface ReservationDeps {
  quota: DailyQuota;
  /** Current Max24HourSend (Infinity when unknown or unlimited). */
  quotaLimit(): number;
  /** SentLast24Hours from the last GetAccount: sends by anything on the account (0 when unknown). */
  sesSentLast24Hours?(): number;
  userQuota?: ((user: string) => DailyQuota) | undefined;
  /** The users' policy as the users file has it now; without it (or for a user it lacks), the job's copy. */
  userPolicy?: UserPolicies | undefined;
}

/** A chunk's reservation in its user's daily cap, and the cap it was made against. */
interface OwnReservation {
  own: DailyQuota;
  dailyCap: number;
  decision: QuotaDecision;
}

export function createChunkReservation(deps: ReservationDeps) {
  /** Reserves in the user's daily cap, if the user has one now; undefined when none applies. */
  async function reserveOwn(data: SendJobData, recipients: number): Promise<OwnReservation | undefined> {
    const { user } = data;
    if (!user || !deps.userQuota) return undefined;
    const { dailyCap } = await userPolicyOf(data, deps.userPolicy);
    if (dailyCap === undefined) return undefined;
    const own = deps.userQuota(user);
    const decision = await own.reserve(recipients, dailyCap);
    if (decision.admitted || !deps.userPolicy) return { own, dailyCap, decision };
    // Held by a cap this process may have read before the users file changed: a held message looks
    // at the cap as the file has it now (one read per refusal, not per chunk).
    const now = (await userPolicyOf(data, deps.userPolicy, { fresh: true })).dailyCap;
    if (now === dailyCap) return { own, dailyCap, decision };
    if (now === undefined) return undefined;
    return { own, dailyCap: now, decision: await own.reserve(recipients, now) };
  }

  return async function reserve(data: SendJobData, recipients: number): Promise<Reservation> {
    const ownReservation = await reserveOwn(data, recipients);
    if (ownReservation && !ownReservation.decision.admitted) {
      const { decision, dailyCap } = ownReservation;
      return {
        admitted: false,
        waitMs: Math.min(decision.waitMs, QUOTA_RECHECK_MS),
        why: `daily cap of SMTP user ${data.user} reached`,
        context: { dailyCap, capFreesAt: freesAt(decision.waitMs) },
      };
    }
    // Each given back to the minute it was counted in (see quota.ts).
    const giveBackOwn = async () => {
      if (!ownReservation) return;
      const { own, decision } = ownReservation;
      await own.release(recipients, decision.minute).catch(() => undefined);
    };
    const limit = deps.quotaLimit();
    const sesSent = deps.sesSentLast24Hours?.() ?? 0;
    const reserved = await deps.quota.reserve(recipients, limit, sesSent).catch(async (err: unknown) => {
      await giveBackOwn();
      throw err;
    });
    if (!reserved.admitted) {
      await giveBackOwn();
      if (reserved.refusedBySes) {
        return {
          admitted: false,
          waitMs: Math.min(reserved.waitMs, QUOTA_RECHECK_MS),
          why: 'SES daily quota exceeded',
          context: { sesRefusalEndsAt: freesAt(reserved.waitMs) },
        };
      }
      return {
        admitted: false,
        waitMs: Math.min(reserved.waitMs, QUOTA_RECHECK_MS),
        why: '24-hour quota reached',
        context: {
          max24HourSend: limit,
          sesSentLast24Hours: sesSent,
          ownSentLast24Hours: reserved.sentLast24Hours,
          quotaFreesAt: freesAt(reserved.waitMs),
        },
      };
    }
    return {
      admitted: true,
      async giveBack() {
        await Promise.all([
          deps.quota.release(recipients, reserved.minute).catch(() => undefined),
          giveBackOwn(),
        ]);
      },
    };
  };
}

/** When the window frees (ISO time); 'unknown' when only SES's own count stands in the way. */
function freesAt(waitMs: number): string {
  return Number.isFinite(waitMs) ? new Date(Date.now() + waitMs).toISOString() : 'unknown';
}
