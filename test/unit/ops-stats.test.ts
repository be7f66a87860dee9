import { describe, expect, it } from 'vitest';
import {
  dayFigures,
  feedbackRates,
  oldestWaitingAge,
  parseAccountSnapshot,
  quotaFigures,
  type AccountReading,
} from '../../src/ops/stats.js';

const account: AccountReading = {
  maxSendRate: 14,
  max24HourSend: 50_000,
  sentLast24Hours: 900,
  sendingEnabled: true,
  productionAccess: true,
  enforcementStatus: 'HEALTHY',
  readAt: 1_700_000_000_000,
};

describe('dayFigures', () => {
  it('counts every kind of bounce as bounced and only permanent ones as hard', () => {
    expect(
      dayFigures({
        day: '2026-11-01',
        counts: {
          sent: 100,
          delivered: 90,
          bounced_hard: 3,
          bounced_soft: 2,
          bounced_undetermined: 1,
          complained: 1,
          bounced_on_account_list: 7,
        },
      }),
    ).toEqual({ day: '2026-11-01', sent: 100, delivered: 90, bounced: 6, bouncedHard: 3, complained: 1 });
  });

  it('reads a day without events as zeros', () => {
    expect(dayFigures({ day: '2026-11-02', counts: {} })).toEqual({
      day: '2026-11-02',
      sent: 0,
      delivered: 0,
      bounced: 0,
      bouncedHard: 0,
      complained: 0,
    });
  });
});

describe('feedbackRates', () => {
  it('divides hard bounces and complaints by sends over the window', () => {
    const rates = feedbackRates([
      { day: 'a', counts: { sent: 600, bounced_hard: 6, bounced_soft: 50, complained: 1 } },
      { day: 'b', counts: {} },
      { day: 'c', counts: { sent: 400, bounced_hard: 4 } },
    ]);
    expect(rates).toEqual({
      windowDays: 3,
      sent: 1000,
      bouncedHard: 10,
      complained: 1,
      bounceRate: 0.01,
      complaintRate: 0.001,
    });
  });

  it('has no rate when nothing was sent', () => {
    const rates = feedbackRates([{ day: 'a', counts: { bounced_hard: 2 } }]);
    expect(rates.bounceRate).toBeNull();
    expect(rates.complaintRate).toBeNull();
  });
});

describe('parseAccountSnapshot', () => {
  it('reads what a worker publishes, an unlimited quota as null', () => {
    const raw = JSON.stringify({
      account: { ...account, max24HourSend: Infinity },
      ratePerSecond: 12,
      at: 5,
    });
    expect(parseAccountSnapshot(raw)).toEqual({
      account: { ...account, max24HourSend: null },
      pacing: { ratePerSecond: 12, at: 5 },
    });
  });

  it('tolerates a missing, unread or malformed snapshot', () => {
    const none = { account: null, pacing: { ratePerSecond: null, at: null } };
    expect(parseAccountSnapshot(null)).toEqual(none);
    expect(parseAccountSnapshot('{')).toEqual(none);
    expect(parseAccountSnapshot(JSON.stringify({ account: { maxSendRate: 'fast' } }))).toEqual(none);
    expect(parseAccountSnapshot(JSON.stringify({ ratePerSecond: 1, at: 2 }))).toEqual({
      account: null,
      pacing: { ratePerSecond: 1, at: 2 },
    });
  });
});

describe('quotaFigures', () => {
  it('computes use and headroom from our own 24-hour count', () => {
    expect(quotaFigures(account, 1250)).toEqual({
      sentLast24Hours: 1250,
      max24HourSend: 50_000,
      used: 0.025,
      headroom: 48_750,
      account,
    });
    expect(quotaFigures(account, 60_000).headroom).toBe(0);
  });

  it("counts SES's SentLast24Hours when it is the larger (other senders on the account), as reservations do", () => {
    expect(quotaFigures(account, 100)).toMatchObject({ sentLast24Hours: 100, used: 0.018, headroom: 49_100 });
  });

  it('has no use or headroom when the quota is unlimited or unknown', () => {
    expect(quotaFigures({ ...account, max24HourSend: null }, 10)).toMatchObject({
      used: null,
      headroom: null,
    });
    expect(quotaFigures(null, 10)).toEqual({
      sentLast24Hours: 10,
      max24HourSend: null,
      used: null,
      headroom: null,
      account: null,
    });
  });
});

describe('oldestWaitingAge', () => {
  it('is null with nothing waiting and never negative', () => {
    expect(oldestWaitingAge(undefined, 100)).toBeNull();
    expect(oldestWaitingAge(40, 100)).toBe(60);
    expect(oldestWaitingAge(140, 100)).toBe(0);
  });
});
